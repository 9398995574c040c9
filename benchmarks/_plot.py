"""Line plots as SVG, drawn with the standard library only, so that a
benchmark can put a figure in docs/ without a plotting dependency."""

import math
from xml.sax.saxutils import escape

WIDTH = 760
HEIGHT = 440
MARGIN = {"left": 64, "right": 250, "top": 40, "bottom": 56}
Y_TICKS = 5


def nice_ceiling(value):
    """The smallest round number at least ``value``: 1, 1.5, 2, 2.5, 3, 4, 5, 6
    or 8 times a power of ten (a fifth of it, the y axis's step, is round too)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def number(value):
    return ("%.2f" % value).rstrip("0").rstrip(".")


def line_plot(series, title, x_label, y_label):
    """An SVG document of ``series``: a list of dicts with ``label``,
    ``points`` [(x, y), ...], ``color`` and ``dash`` (an SVG dash array, or
    None for a solid line). The x axis is linear, ticked at every x of the
    points; the y axis starts at 0."""
    xs = sorted({x for line in series for x, dummy in line["points"]}) or [1]
    y_top = nice_ceiling(max([y for line in series for dummy, y in line["points"]] or [1]))
    plot_width = WIDTH - MARGIN["left"] - MARGIN["right"]
    plot_height = HEIGHT - MARGIN["top"] - MARGIN["bottom"]
    x_low, x_high = min(0, xs[0]), max(xs[-1], 1)

    def at_x(x):
        return MARGIN["left"] + plot_width * (x - x_low) / float(x_high - x_low)

    def at_y(y):
        return MARGIN["top"] + plot_height * (1 - y / float(y_top))

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
             'font-family="sans-serif" font-size="12">' % (WIDTH, HEIGHT, WIDTH, HEIGHT),
             '<rect width="100%" height="100%" fill="white"/>',
             '<text x="%d" y="22" font-size="14" font-weight="bold">%s</text>' % (MARGIN["left"], escape(title))]
    for step in range(Y_TICKS + 1):
        y = y_top * step / Y_TICKS
        parts.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (
            at_x(x_low), at_x(x_high), at_y(y), at_y(y)))
        parts.append('<text x="%.1f" y="%.1f" text-anchor="end">%s</text>' % (
            at_x(x_low) - 6, at_y(y) + 4, number(y)))
    for x in xs:
        parts.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#999"/>' % (
            at_x(x), at_x(x), at_y(0), at_y(0) + 5))
        parts.append('<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>' % (at_x(x), at_y(0) + 18, number(x)))
    parts.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="black"/>' % (
        at_x(x_low), at_x(x_high), at_y(0), at_y(0)))
    parts.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="black"/>' % (
        at_x(x_low), at_x(x_low), at_y(0), at_y(y_top)))
    parts.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (
        MARGIN["left"] + plot_width / 2.0, HEIGHT - 14, escape(x_label)))
    parts.append('<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>' % (
        MARGIN["top"] + plot_height / 2.0, escape(y_label)))
    for number_in_legend, line in enumerate(series):
        points = sorted(line["points"])
        dash = ' stroke-dasharray="%s"' % line["dash"] if line.get("dash") else ""
        parts.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>' % (
            line["color"], dash, " ".join("%.1f,%.1f" % (at_x(x), at_y(y)) for x, y in points)))
        for x, y in points:
            parts.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (at_x(x), at_y(y), line["color"]))
        legend_y = MARGIN["top"] + 10 + 20 * number_in_legend
        legend_x = WIDTH - MARGIN["right"] + 20
        parts.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/>' % (
            legend_x, legend_x + 28, legend_y, legend_y, line["color"], dash))
        parts.append('<text x="%d" y="%d">%s</text>' % (legend_x + 36, legend_y + 4, escape(line["label"])))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
