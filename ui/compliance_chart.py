"""The committee's compliance chart as a PNG: bars per branch, or a distribution for many.

matplotlib is imported on first use (the bot starts without it) and drawn with the Agg
canvas directly, never pyplot, so no global figure state is shared. Chinese labels use
Noto Sans CJK SC from the `mplfonts` package, loaded by path: nothing depends on the
machine's fonts or on rebuilding matplotlib's font cache.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import statistics
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Up to this many branches each gets its own pair of bars; beyond it, a distribution.
BARS_MAX = 40
WEAKEST = 15
NAME_MAX = 18
RED = "#c8102e"
GOLD = "#e3a21a"
GREY = "#6b6b6b"
FONT_FILE = "NotoSansCJKsc-Regular.otf"

_lock = threading.Lock()
_family: str | None = None


@dataclass(frozen=True)
class ChartRow:
    """One branch: its compliance and attendance rates (None: nothing to measure)."""

    name: str
    compliance: float | None
    attendance: float | None


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, in the reader's language."""

    title: str
    subtitle: str
    compliance: str
    attendance: str
    branches: str
    weakest: str
    compliance_distribution: str
    attendance_distribution: str
    median: Callable[[str], str]
    no_data: str


def font_path() -> Path | None:
    """The Simplified Chinese font shipped by mplfonts (found without importing it)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / FONT_FILE
    return path if path.is_file() else None


def _font_family() -> str:
    global _family
    if _family is None:
        from matplotlib import font_manager

        path = font_path()
        if path is None:
            log.warning("mplfonts is missing: Chinese labels of charts will not render")
            _family = "sans-serif"
        else:
            font_manager.fontManager.addfont(str(path))
            _family = font_manager.FontProperties(fname=str(path)).get_name()
    return _family


def _short(name: str) -> str:
    return name if len(name) <= NAME_MAX else name[: NAME_MAX - 1] + "…"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


@contextmanager
def chart_style() -> Iterator[None]:
    """Draw in the charts' shared look (the CJK font, no top or right frame), one chart at a
    time (matplotlib's settings are global)."""
    from matplotlib import rc_context

    with _lock:
        family = _font_family()
        with rc_context(
            {
                "font.family": "sans-serif",
                "font.sans-serif": [family, "DejaVu Sans"],
                "axes.unicode_minus": False,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        ):
            yield


def render_chart(rows: Sequence[ChartRow], labels: ChartLabels) -> bytes:
    """The PNG: sorted bars for up to BARS_MAX branches, else distributions and the weakest."""
    with chart_style():
        if len(rows) <= BARS_MAX:
            return _bars_figure(rows, labels)
        return _distribution_figure(rows, labels)


def figure_png(fig: Any) -> bytes:
    """A drawn figure as PNG bytes (Agg canvas, white background)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=fig.dpi, facecolor="white")
    return out.getvalue()


def _order(rows: Sequence[ChartRow]) -> list[ChartRow]:
    """Weakest first: lowest compliance, then lowest attendance; unmeasured last."""
    return sorted(
        rows,
        key=lambda r: (
            r.compliance is None,
            r.compliance if r.compliance is not None else 0.0,
            r.attendance if r.attendance is not None else 0.0,
            r.name,
        ),
    )


def _pair_bars(ax: Any, rows: Sequence[ChartRow], labels: ChartLabels) -> None:
    """Two horizontal bars per branch, the first row at the top, with their values."""
    height = 0.38
    n = len(rows)
    for offset, attr, color, label in (
        (-height / 2, "compliance", RED, labels.compliance),
        (height / 2, "attendance", GOLD, labels.attendance),
    ):
        values = [getattr(r, attr) for r in rows]
        ys = [i + offset for i in range(n)]
        ax.barh(ys, [100 * (v or 0) for v in values], height=height, color=color, label=label)
        for y, v in zip(ys, values, strict=True):
            ax.text(
                (100 * v if v is not None else 0) + 1, y, _percent(v), va="center",
                fontsize=7.5, color=GREY,
            )  # fmt: skip
    ax.set_yticks(range(n), [_short(r.name) for r in rows], fontsize=9)
    ax.set_ylim(n - 0.5, -0.5)  # the first row on top
    ax.set_xlim(0, 112)
    ax.set_xticks([0, 20, 40, 60, 80, 100], ["0", "20%", "40%", "60%", "80%", "100%"])
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)


def _label_inches(rows: Sequence[ChartRow]) -> float:
    """Room the branch names need left of the bars (a CJK character at 9 pt ≈ 0.13 in)."""
    longest = max((len(_short(r.name)) for r in rows), default=4)
    return 0.35 + 0.13 * longest


def _header(fig: Any, labels: ChartLabels) -> None:
    """Title and subtitle at fixed distances from the top, whatever the figure's height."""
    height = fig.get_figheight()
    fig.text(0.02, 1 - 0.18 / height, labels.title, fontsize=14, va="top")
    fig.text(0.02, 1 - 0.55 / height, labels.subtitle, fontsize=9.5, color=GREY, va="top")


def _bars_figure(rows: Sequence[ChartRow], labels: ChartLabels) -> bytes:
    from matplotlib.figure import Figure

    ordered = _order(rows)
    width, top, bottom = 8.5, 1.3, 0.45  # inches
    height = top + bottom + 0.42 * max(len(ordered), 2)
    fig = Figure(figsize=(width, height), dpi=130)
    _header(fig, labels)
    left = min(_label_inches(ordered), 3.2) / width
    ax = fig.add_axes((left, bottom / height, 0.96 - left, 1 - (top + bottom) / height))
    if ordered:
        _pair_bars(ax, ordered, labels)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False,
                  fontsize=9)  # fmt: skip
    else:
        ax.axis("off")
        ax.text(0.5, 0.5, labels.no_data, ha="center", va="center", fontsize=11, color=GREY)
    return figure_png(fig)


def _histogram(
    ax: Any, values: Sequence[float], color: str, title: str, labels: ChartLabels
) -> None:
    edges = [i * 10 for i in range(11)]
    counts = [0] * 10
    for v in values:
        counts[min(9, int(v * 100) // 10)] += 1
    ax.bar([e + 5 for e in edges[:-1]], counts, width=9, color=color)
    for x, c in zip(edges[:-1], counts, strict=True):
        if c:
            ax.text(x + 5, c, str(c), ha="center", va="bottom", fontsize=8, color=GREY)
    ax.set_xlim(0, 100)
    ax.set_xticks(edges[::2], [f"{e}%" for e in edges[::2]], fontsize=8)
    ax.set_ylabel(labels.branches, fontsize=9)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylim(0, max([*counts, 1]) * 1.15)
    if values:
        median = statistics.median(values)
        ax.axvline(median * 100, color="#333333", linewidth=1, linestyle="--")
        title = f"{title}　{labels.median(_percent(median))}"
    ax.set_title(title, fontsize=11, loc="left")


def _distribution_figure(rows: Sequence[ChartRow], labels: ChartLabels) -> bytes:
    from matplotlib.figure import Figure

    weakest = _order([r for r in rows if r.compliance is not None])[:WEAKEST]
    width, top, middle, bars = 10.0, 1.25, 3.2, 0.42 * max(len(weakest), 2)
    height = top + middle + 0.95 + bars + 0.45
    fig = Figure(figsize=(width, height), dpi=120)
    _header(fig, labels)
    upper = fig.add_gridspec(
        1, 2, left=0.07, right=0.97, top=1 - top / height,
        bottom=1 - (top + middle - 0.35) / height, wspace=0.22,
    )  # fmt: skip
    compliance = [r.compliance for r in rows if r.compliance is not None]
    attendance = [r.attendance for r in rows if r.attendance is not None]
    _histogram(fig.add_subplot(upper[0, 0]), compliance, RED, labels.compliance_distribution,
               labels)  # fmt: skip
    _histogram(fig.add_subplot(upper[0, 1]), attendance, GOLD, labels.attendance_distribution,
               labels)  # fmt: skip
    left = min(_label_inches(weakest), 3.2) / width
    ax = fig.add_axes((left, 0.45 / height, 0.97 - left, bars / height))
    if weakest:
        _pair_bars(ax, weakest, labels)
    ax.set_title(labels.weakest, fontsize=11, loc="left", pad=22)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False, fontsize=9)
    return figure_png(fig)
