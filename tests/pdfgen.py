"""Real PDFs with known text, made with fpdf2 (imported by the search tests and benchmarks/bench_search.py).

`article` writes an arXiv-style paper: a title page, numbered section headings, body pages in one column
and one page in two columns, each page's text known to the caller; ligature code points (ﬁ, ﬂ) where a
TrueType font is available. The faulty ones: `broken` (a PDF header and %%EOF around garbage, so it passes
the download check and fails only when read), `encrypted` (a user password), `image_only` (a scan: one
picture, no text).
"""

from __future__ import annotations

import random
from pathlib import Path

from fpdf import FPDF

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSerif.ttf"),
    Path("/Library/Fonts/DejaVuSerif.ttf"),
)
WORDS = tuple(
    [
        "model",
        "layer",
        "token",
        "attention",
        "gradient",
        "residual",
        "norm",
        "scale",
        "batch",
        "loss",
        "weight",
        "training",
        "sequence",
        "vector",
        "matrix",
        "kernel",
        "memory",
        "budget",
        "sample",
        "update",
        "optimiser",
        "dropout",
        "embedding",
        "decoder",
        "encoder",
    ]
)


def unicode_font() -> Path | None:
    """A TrueType font with the ﬁ/ﬂ ligature code points, when the system has one."""
    return next((p for p in FONT_CANDIDATES if p.is_file()), None)


def filler(seed: str, words: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _pdf() -> tuple[FPDF, str]:
    pdf = FPDF(format="letter")
    pdf.set_auto_page_break(False)
    font = unicode_font()
    if font is not None:
        pdf.add_font("Body", "", str(font))
        return pdf, "Body"
    return pdf, "Helvetica"


def article(
    path: Path, pages: list[str], *, title: str = "", two_column: dict[int, tuple[str, str]] | None = None
) -> Path:
    """A PDF whose page ``i + 1`` shows ``pages[i]`` (lines starting ``#`` are set as headings), and whose
    pages in ``two_column`` (0-based) show two columns side by side instead: left text, right text."""
    pdf, font = _pdf()
    for number, text in enumerate(pages):
        pdf.add_page()
        pdf.set_xy(20, 20)
        if number == 0 and title:
            pdf.set_font(font, size=16)
            pdf.multi_cell(170, 8, title)
            pdf.ln(4)
        columns = (two_column or {}).get(number)
        if columns is not None:
            pdf.set_font(font, size=10)
            top = pdf.get_y()
            pdf.set_xy(20, top)
            pdf.multi_cell(80, 5, columns[0])
            pdf.set_xy(110, top)
            pdf.multi_cell(80, 5, columns[1])
            continue
        for line in text.split("\n"):
            heading = line.startswith("#")
            pdf.set_font(font, size=13 if heading else 10)
            pdf.set_x(20)
            pdf.multi_cell(170, 7 if heading else 5, line.lstrip("# "))
    pdf.output(str(path))
    return path


def broken(path: Path) -> Path:
    """Starts with %PDF- and ends with %%EOF (sync keeps it), but has no readable structure in between."""
    path.write_bytes(
        b"%PDF-1.7\n" + random.Random(path.name).randbytes(3000).replace(b"%", b"#") + b"\n%%EOF\n"
    )
    return path


def encrypted(path: Path, text: str = "a secret page") -> Path:
    pdf, font = _pdf()
    pdf.add_page()
    pdf.set_font(font, size=12)
    pdf.multi_cell(170, 6, text)
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    pdf.output(str(path))
    return path


def image_only(path: Path) -> Path:
    """One page holding a picture and no text at all, like a scan without OCR."""
    from PIL import Image

    picture = Image.new("RGB", (200, 100), (240, 240, 240))
    for x in range(20, 180):
        for y in (30, 50, 70):
            picture.putpixel((x, y), (20, 20, 20))
    pdf = FPDF(format="letter")
    pdf.add_page()
    pdf.image(picture, x=20, y=20, w=170)
    pdf.output(str(path))
    return path
