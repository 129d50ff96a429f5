"""Reading ticket PDFs back in tests with wheels only: pypdfium2 renders, pypdf lists fonts."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pypdfium2
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

_SUBSET_PREFIX = re.compile(r"^/?[A-Z]{6}\+")


def render_pages(pdf: bytes, dpi: int) -> list[Image.Image]:
    """Every page as a greyscale image at `dpi` dots per inch."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [
            document[index].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            for index in range(len(document))
        ]
    finally:
        document.close()


def page_texts(pdf: bytes) -> list[str]:
    """Every page's text as pdfium reads it, each run of whitespace as one space."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        texts = []
        for index in range(len(document)):
            text_page = document[index].get_textpage()
            texts.append(" ".join(text_page.get_text_range().split()))
            text_page.close()
        return texts
    finally:
        document.close()


@dataclass(frozen=True)
class FontInfo:
    name: str
    embedded: bool
    subset: bool
    unicode_map: bool


def fonts(pdf_path: str) -> list[FontInfo]:
    """The fonts of every page, as poppler's pdffonts lists them (name, emb, sub, uni)."""
    found: dict[str, FontInfo] = {}
    for page in PdfReader(pdf_path).pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        for font_ref in resources.get_object().get("/Font", {}).values():
            font = font_ref.get_object()
            name = str(font["/BaseFont"]).lstrip("/")
            described: DictionaryObject = font
            if font.get("/Subtype") == "/Type0":
                described = font["/DescendantFonts"][0].get_object()
            descriptor = described.get("/FontDescriptor")
            files = ("/FontFile", "/FontFile2", "/FontFile3")
            found[name] = FontInfo(
                name=name,
                embedded=descriptor is not None
                and any(key in descriptor.get_object() for key in files),
                subset=bool(_SUBSET_PREFIX.match(name)),
                unicode_map="/ToUnicode" in font,
            )
    return list(found.values())
