"""What every evsynth figure shares: fixed output settings, fonts, text measurement.

The PRISMA diagram, forest and funnel plots, risk-of-bias and qualitative figures
and the change report's plot all draw with these, so they look alike and give the
same bytes for the same data whatever the user's matplotlib settings.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import matplotlib as mpl
import matplotlib.style  # mpl.style is not loaded by `import matplotlib` alone
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.textpath import TextToPath

#: Shipped with matplotlib, so it is there on every machine.
FONT_FAMILY = "DejaVu Sans"
#: Text is measured unhinted (vector output) and with Agg's hinting at these
#: resolutions; the widest measure wins, so PNGs do not overflow either.
MEASURE_DPI = (100, 300)
#: Output settings on top of matplotlib's default style.
RC = {
    "svg.fonttype": "none",  # text stays text: searchable numbers and labels
    "svg.hashsalt": "evsynth",  # deterministic ids
    "pdf.fonttype": 42,  # embedded TrueType, not Type 3
    "text.usetex": False,
    "axes.unicode_minus": True,
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Matplotlib's default style plus our output settings, whatever the user's."""
    with mpl.style.context("default"), mpl.rc_context(RC):
        yield


@functools.cache
def font(size: float, bold: bool = False, italic: bool = False) -> FontProperties:
    """Return the figures' font at a size (points), bold and/or italic."""
    return FontProperties(
        family=FONT_FAMILY,
        style="italic" if italic else "normal",
        variant="normal",
        weight="bold" if bold else "normal",
        stretch="normal",
        size=size,
    )


@functools.cache
def renderer(dpi: float) -> RendererAgg:
    """Return an Agg renderer at a resolution, for measuring hinted text."""
    return RendererAgg(1, 1, dpi)


@functools.cache
def vertical_metrics() -> tuple[float, float]:
    """Font ascent and descent, in em (the same at every size)."""
    face = get_font(findfont(font(10)))
    return face.ascender / face.units_per_EM, -face.descender / face.units_per_EM


@functools.lru_cache(maxsize=65536)
def text_width(
    text: str,
    size: float,
    bold: bool = False,
    dpis: tuple[float, ...] = MEASURE_DPI,
    italic: bool = False,
) -> float:
    """Width of one line of text in inches: the widest of all renderings."""
    if not text:
        return 0.0
    prop = font(size, bold, italic)
    points, _, _ = TextToPath().get_text_width_height_descent(text, prop, False)
    widths = [points / 72]
    for dpi in dpis:
        pixels, _, _ = renderer(dpi).get_text_width_height_descent(text, prop, False)
        widths.append(pixels / dpi)
    return max(widths)
