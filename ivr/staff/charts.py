"""Charts for the dashboard: pygal SVG drawn on the server, shown as images beside a table of the same numbers."""

from __future__ import annotations

import base64
import re
import sys
from dataclasses import dataclass

import pygal
from pygal.style import Style

# pygal hooks sys.meta_path for its map plugins (unused here) with a finder that lacks find_spec, so every
# import that misses afterwards raises an ImportWarning (an error under the test suite): take the hook out.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

# Each colour holds 3:1 against white (WCAG's rule for graphics); text is near-black.
PALETTE = ("#0a4f8a", "#b34700", "#1d6e2a", "#6b2c91", "#a4000f", "#4a4a4a", "#00707a")
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1b1b1b", foreground_strong="#1b1b1b",
    foreground_subtle="#595959", opacity="1", opacity_hover="1", colors=PALETTE,
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    title_font_size=18, label_font_size=13, major_label_font_size=13, legend_font_size=14,
    value_font_size=13, tooltip_font_size=12, value_colors=("#1b1b1b",),
)
# pygal writes a small configuration <script> even with no JavaScript files: an image never runs it, and
# the console's pages carry no script at all, so it is taken out.
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)


@dataclass(frozen=True)
class Chart:
    """One chart: its title, what it counts, the series by label, and the SVG drawn from exactly these numbers."""

    key: str
    title: str
    unit: str
    labels: tuple[str, ...]
    series: dict[str, tuple[float, ...]]
    svg: str

    @property
    def image_src(self) -> str:
        """The SVG as a data: URL for an <img> (an image document runs no script)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()

    @property
    def totals(self) -> tuple[float, ...]:
        """Each label's sum over the series."""
        return tuple(sum(values[index] for values in self.series.values()) for index in range(len(self.labels)))


def bar_chart(key: str, title: str, unit: str, labels: list[str], series: dict[str, list[float | None]],
              stacked: bool = True, percent: bool = False) -> Chart:
    """A (stacked) bar chart of series over labels; `percent` scales the axis 0-100; None is a missing bar."""
    kind = pygal.StackedBar if stacked and len(series) > 1 else pygal.Bar
    long_labels = max((len(label) for label in labels), default=0) > 12
    chart = kind(style=STYLE, js=[], disable_xml_declaration=True, width=900, height=400, title=title,
                 x_label_rotation=30 if long_labels or len(labels) > 12 else 0, truncate_label=-1,
                 show_legend=len(series) > 1, legend_at_bottom=True,
                 legend_at_bottom_columns=min(len(series), 4) or 1,
                 print_values=len(labels) <= 12 and not stacked, print_values_position="top", print_zeroes=False,
                 include_x_axis=True, range=(0, 100) if percent else None, value_formatter=_formatter(percent),
                 y_labels=None if percent else _whole_steps(series, stacked), no_data_text="No data in this period")
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, list(values))
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    return Chart(key=key, title=title, unit=unit, labels=tuple(labels),
                 series={name: tuple(values) for name, values in series.items()}, svg=svg)


def _whole_steps(series: dict[str, list[float | None]], stacked: bool) -> list[int] | None:
    """Whole-number axis marks (calls and cases come whole), at most about ten of them; None with no series."""
    if not series:
        return None  # pygal draws "No data in this period" and needs no axis
    columns = list(zip(*series.values(), strict=True)) or [()]
    top = max((sum(v or 0 for v in column) if stacked else max((v or 0 for v in column), default=0))
              for column in columns)
    step = max(1, -(-int(top) // 10))
    return list(range(0, int(top) + step + 1, step))


def _formatter(percent: bool):
    """How values are written on the bars."""
    if percent:
        return lambda value: f"{value:.0f}%"
    return lambda value: f"{value:,.0f}"
