"""Refusals a service may answer with; handlers turn the code into a catalog message."""

from __future__ import annotations


class ServiceError(Exception):
    """An intent that cannot be carried out, with a code such as "auth.denied"."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class Denied(ServiceError):
    """The actor may not do this here."""

    def __init__(self, code: str = "auth.denied", **params: object) -> None:
        super().__init__(code, **params)


class NotFound(ServiceError):
    """The thing named does not exist (or no longer does)."""

    def __init__(self, code: str = "not_found", **params: object) -> None:
        super().__init__(code, **params)
