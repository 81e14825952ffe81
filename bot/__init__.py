"""zhibu (支部助手): the composition root — config, wiring, CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("zhibu")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+source"
