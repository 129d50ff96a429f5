"""Posters for the demo shows, drawn with Pillow when the demo data is loaded.

Each show gets its own colours and shapes (chosen from its slug, so a restart draws the same
poster), its title and its genre: the first run looks like a real programme, and the image
pipeline (upload, the job that makes the sizes, srcset) is exercised from the start.
"""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from mierloos_entrypoints.web.rendering import THEATRE

WIDTH, HEIGHT = 1600, 1200  # 4:3, as the agenda cards show it
_FONTS = Path(__file__).resolve().parents[1] / "mierloos_adapters" / "fonts"
_PALETTES = (
    ((122, 31, 61), (244, 197, 66), (251, 248, 243)),
    ((22, 54, 92), (236, 120, 85), (240, 236, 226)),
    ((35, 82, 60), (233, 196, 106), (248, 244, 235)),
    ((58, 36, 96), (98, 198, 191), (246, 242, 250)),
    ((30, 30, 30), (230, 57, 70), (241, 250, 238)),
)


def _font(size: int, *, bold: bool = True) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(_FONTS / name), size)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def draw_poster(title: str, slug: str, genre: str = "") -> bytes:
    """A JPEG poster of WIDTH x HEIGHT pixels."""
    seed = int.from_bytes(hashlib.sha256(slug.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    background, accent, paper = _PALETTES[seed % len(_PALETTES)]
    image = Image.new("RGB", (WIDTH, HEIGHT), background)
    draw = ImageDraw.Draw(image)

    style = seed % 3
    for _ in range(rng.randint(5, 9)):
        x, y = rng.randint(-200, WIDTH), rng.randint(-200, HEIGHT)
        size = rng.randint(150, 520)
        colour = accent if rng.random() < 0.6 else paper
        if style == 0:
            draw.ellipse((x, y, x + size, y + size), outline=colour, width=rng.randint(12, 40))
        elif style == 1:
            draw.polygon([(x, y + size), (x + size // 2, y), (x + size, y + size)], fill=colour)
        else:
            draw.rectangle((x, 0, x + size // 4, HEIGHT), fill=colour)
    # A calm band for the text, so it reads at the smallest size too.
    draw.rectangle((0, HEIGHT * 0.52, WIDTH, HEIGHT), fill=paper)

    if genre:
        draw.text((80, HEIGHT * 0.52 + 50), genre.upper(), font=_font(54), fill=accent)
    top, bottom = HEIGHT * 0.52 + 140, HEIGHT - 130
    title_font = _font(110)
    lines = _wrap(draw, title, title_font, WIDTH - 160)
    while len(lines) * title_font.size * 1.15 > bottom - top and title_font.size > 40:
        title_font = _font(int(title_font.size) - 8)
        lines = _wrap(draw, title, title_font, WIDTH - 160)
    y = top
    for line in lines:
        draw.text((80, y), line, font=title_font, fill=background)
        y += title_font.size * 1.15
    draw.text((80, HEIGHT - 100), THEATRE, font=_font(44, bold=False), fill=background)

    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()
