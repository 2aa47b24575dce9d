"""A stacked bar chart as inline SVG, drawn on the server: no chart library
to vendor, nothing to run in the browser, and the same numbers are given as
a table beside it for screen readers and print."""

from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

PALETTE = ["#0b57a4", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#bc4c00", "#1b7c83", "#6e7781",
           "#d4a72c", "#bf3989", "#4c2889", "#57606a"]


def series_colours(names: list[str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def stacked_bars(periods: list[str], series: dict[str, list[int]], colours: dict[str, str], *, title: str,
                 width: int = 720, height: int = 260) -> str:
    """periods: x labels; series: name -> one count per period."""
    left, right, top, bottom = 36, 8, 10, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for values in series.values()) for i in range(len(periods))]
    peak = max(totals or [0]) or 1
    step = _nice_step(peak)
    peak = ((peak + step - 1) // step) * step
    n = max(len(periods), 1)
    slot = plot_w / n
    bar = max(slot * 0.7, 1)
    parts = [format_html('<svg viewBox="0 0 {} {}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">',
                         width, height, title)]
    for tick in range(0, peak + 1, step):
        y = top + plot_h - plot_h * tick / peak
        parts.append(format_html('<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d0d7de"/>'
                                 '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#57606a">{}</text>',
                                 left, width - right, _n(y), _n(y), left - 4, _n(y + 4), tick))
    for i, period in enumerate(periods):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        for name, values in series.items():
            value = values[i]
            if not value:
                continue
            h = plot_h * value / peak
            y -= h
            parts.append(format_html('<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                                     '<title>{} · {}: {}</title></rect>', _n(x), _n(y), _n(bar), _n(h), colours[name], period,
                                     name, value))
        if n <= 12 or i % max(n // 12, 1) == 0:
            parts.append(format_html('<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#1b1f24">{}</text>',
                                     _n(x + bar / 2), height - bottom + 16, period))
    parts.append(mark_safe("</svg>"))  # noqa: S308 (a constant)
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308 (built from format_html parts)


def _n(value: float) -> str:
    return f"{value:.1f}"


def _nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000):
        if peak / step <= 5:
            return step
    return 10 ** len(str(peak))


def legend(colours: dict[str, str], labels: dict[str, str]) -> str:
    items = "".join(
        # An SVG square: its fill is an attribute, not a style="..." the Content-Security-Policy would refuse.
        str(format_html('<li><svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">'
                        '<rect width="10" height="10" fill="{}"/></svg>{}</li>', colour, labels.get(name, name)))
        for name, colour in colours.items())
    return mark_safe(f'<ul class="legend">{items}</ul>')  # noqa: S308 (items are escaped above)


__all__ = ["escape", "legend", "series_colours", "stacked_bars"]
