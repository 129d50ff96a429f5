"""The ImageProcessor contract, run against the memory fake and the Pillow adapter.

Inputs are real files made here with Pillow: photos with EXIF orientation and GPS data,
transparent PNGs, GIFs, WebP; and the files an upload form must refuse: a text file named
.jpg, a truncated JPEG, other image formats, and decompression bombs. Outputs are read back
with Pillow, independently of the processor under test.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from collections.abc import Callable

import pytest
from PIL import ExifTags, ImageCms, features
from PIL import Image as PILImage

from mierloos_adapters.images import DEFAULT_MAX_PIXELS, PillowImageProcessor
from mierloos_adapters.memory import MemoryImageProcessor
from mierloos_core import errors
from mierloos_core.model.files import ImageInfo, fit_within
from mierloos_core.ports import ImageProcessor

SIZES = {"lg": 1600, "md": 800, "sm": 400}
CAMERA = "MierloosCam 3000"


@pytest.fixture(params=["memory", "pillow"])
def processor(request: pytest.FixtureRequest) -> ImageProcessor:
    if request.param == "memory":
        return MemoryImageProcessor()
    return PillowImageProcessor()


# --- inputs ------------------------------------------------------------------------------------


def encode(image: PILImage.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def two_colour(width: int, height: int, mode: str = "RGB") -> PILImage.Image:
    """Top half red, bottom half blue: shows which way up an image ends."""
    image = PILImage.new("RGB", (width, height), (220, 20, 20))
    image.paste((20, 20, 220), (0, height // 2, width, height))
    return image.convert(mode) if mode != "RGB" else image


def phone_photo(orientation: int = 6) -> bytes:
    """A 3000x2000 JPEG as phones store it: turned by EXIF, with camera and GPS data."""
    exif = PILImage.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = CAMERA
    exif[ExifTags.Base.Model] = "Pocket"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 26.0, 30.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (5.0, 37.0, 12.25)
    return encode(
        two_colour(3000, 2000),
        "JPEG",
        exif=exif.tobytes(),
        comment=b"taken at home, Dorpsstraat 1",
        quality=90,
    )


def png_bomb_header_only() -> bytes:
    """A tiny PNG that claims 100000 x 100000 pixels (10 gigapixels)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(b"\x00" * 100_001 * 4)),
            chunk(b"IEND", b""),
        )
    )


def png_bomb_complete(width: int = 10_000, height: int = 8_000) -> bytes:
    """A complete, valid 80-megapixel grey PNG of about 80 kB: 80 MB once decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"".join(
        (b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header), chunk(b"IDAT", data), chunk(b"IEND", b""))
    )


def transparent_png() -> bytes:
    image = PILImage.new("RGBA", (640, 480), (0, 0, 0, 0))
    image.paste((20, 20, 220, 255), (0, 0, 320, 480))
    return encode(image, "PNG")


def gif() -> bytes:
    return encode(two_colour(120, 90).convert("P", palette=PILImage.Palette.ADAPTIVE), "GIF")


def animated_gif() -> bytes:
    frames = [two_colour(200, 100).convert("P"), PILImage.new("P", (200, 100), 3)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def webp() -> bytes:
    return encode(two_colour(1800, 1200), "WEBP", quality=80)


def cmyk_jpeg() -> bytes:
    return encode(two_colour(900, 600, "CMYK"), "JPEG")


def grey_progressive_jpeg() -> bytes:
    return encode(two_colour(2400, 1000, "L"), "JPEG", progressive=True)


def sixteen_bit_png() -> bytes:
    return encode(PILImage.new("I;16", (500, 500), 40_000), "PNG")


def srgb_tagged_jpeg() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(two_colour(1000, 1000), "JPEG", icc_profile=profile)


GOOD: dict[str, tuple[Callable[[], bytes], ImageInfo]] = {
    "phone photo (EXIF orientation 6, GPS)": (
        phone_photo,
        ImageInfo(format="jpeg", width=2000, height=3000),
    ),
    "jpeg upside down (orientation 3)": (
        lambda: phone_photo(3),
        ImageInfo(format="jpeg", width=3000, height=2000),
    ),
    "transparent png": (transparent_png, ImageInfo(format="png", width=640, height=480)),
    "gif": (gif, ImageInfo(format="gif", width=120, height=90)),
    "animated gif": (animated_gif, ImageInfo(format="gif", width=200, height=100)),
    "cmyk jpeg": (cmyk_jpeg, ImageInfo(format="jpeg", width=900, height=600)),
    "grey progressive jpeg": (
        grey_progressive_jpeg,
        ImageInfo(format="jpeg", width=2400, height=1000),
    ),
    "16-bit png": (sixteen_bit_png, ImageInfo(format="png", width=500, height=500)),
    "jpeg with an icc profile": (
        srgb_tagged_jpeg,
        ImageInfo(format="jpeg", width=1000, height=1000),
    ),
}
if features.check("webp"):
    GOOD["webp"] = (webp, ImageInfo(format="webp", width=1800, height=1200))


def text_named_jpg() -> bytes:
    return b"Beste theaterliefhebber,\nDit is geen foto.\n"


def truncated_jpeg() -> bytes:
    photo = phone_photo()
    return photo[: len(photo) // 2]


def truncated_png() -> bytes:
    image = transparent_png()
    return image[: len(image) - 40]


def bmp() -> bytes:
    return encode(two_colour(64, 64), "BMP")


def tiff() -> bytes:
    return encode(two_colour(64, 64), "TIFF")


def svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


BAD: dict[str, Callable[[], bytes]] = {
    "text file named .jpg": text_named_jpg,
    "empty file": lambda: b"",
    "truncated jpeg": truncated_jpeg,
    "truncated png": truncated_png,
    "jpeg header only": lambda: phone_photo()[:600],
    "bmp": bmp,
    "tiff": tiff,
    "svg": svg,
    "pdf": lambda: b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
}

BOMBS: dict[str, Callable[[], bytes]] = {
    "10-gigapixel png header": png_bomb_header_only,
    "80-megapixel png, complete": png_bomb_complete,
}


# --- reading outputs back ----------------------------------------------------------------------


def jpeg_markers(data: bytes) -> list[int]:
    """The markers of a JPEG's segments up to its first scan."""
    assert data[:2] == b"\xff\xd8"
    pos, markers = 2, []
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        (length,) = struct.unpack_from(">H", data, pos + 2)
        pos += 2 + length


def assert_clean_jpeg(data: bytes, size: tuple[int, int]) -> None:
    with PILImage.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == size
        image.load()
        assert image.mode in ("RGB", "L")
        assert dict(image.getexif()) == {}
        for key in ("exif", "comment", "icc_profile", "xmp", "photoshop"):
            assert key not in image.info, key
    # no APPn segment but JFIF's APP0, and no comment segment
    assert all(m == 0xE0 or not (0xE1 <= m <= 0xEF or m == 0xFE) for m in jpeg_markers(data))
    for secret in (b"Exif", CAMERA.encode(), b"Dorpsstraat", b"GPS"):
        assert secret not in data


def test_the_phone_photo_really_carries_what_must_be_stripped() -> None:
    data = phone_photo()
    with PILImage.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        assert exif[ExifTags.Base.Orientation] == 6
        assert exif[ExifTags.Base.Make] == CAMERA
        assert exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
        assert image.info["comment"] == b"taken at home, Dorpsstraat 1"
        assert image.size == (3000, 2000)  # stored sideways


# --- the contract ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(GOOD))
def test_inspect_tells_format_and_size_as_shown(processor: ImageProcessor, name: str) -> None:
    make, expected = GOOD[name]

    info = processor.inspect(make())

    assert info == expected
    assert info.content_type == f"image/{expected.format}"


@pytest.mark.parametrize("name", list(GOOD))
def test_variants_fit_their_box_keep_the_aspect_and_carry_no_metadata(
    processor: ImageProcessor, name: str
) -> None:
    make, expected = GOOD[name]

    variants = processor.variants(make(), SIZES)

    assert set(variants) == set(SIZES)
    for size_name, box in SIZES.items():
        width, height = fit_within(expected.width, expected.height, box)
        assert max(width, height) == min(box, max(expected.width, expected.height))
        assert abs(width / height - expected.width / expected.height) < 2 / min(width, height)
        assert_clean_jpeg(variants[size_name], (width, height))
        # the processor reads its own output back
        assert processor.inspect(variants[size_name]) == ImageInfo(
            format="jpeg", width=width, height=height
        )


def test_small_images_are_never_scaled_up(processor: ImageProcessor) -> None:
    variants = processor.variants(gif(), {"lg": 1600, "sm": 100})

    assert PILImage.open(io.BytesIO(variants["lg"])).size == (120, 90)
    assert PILImage.open(io.BytesIO(variants["sm"])).size == (100, 75)


def test_the_sizes_asked_for_are_the_sizes_given(processor: ImageProcessor) -> None:
    variants = processor.variants(phone_photo(), {"thumb": 64})

    assert list(variants) == ["thumb"]
    assert PILImage.open(io.BytesIO(variants["thumb"])).size == (43, 64)


@pytest.mark.parametrize("name", list(BAD))
def test_files_that_are_not_usable_images_are_refused(processor: ImageProcessor, name: str) -> None:
    data = BAD[name]()

    with pytest.raises(errors.InvalidImage) as inspected:
        processor.inspect(data)
    with pytest.raises(errors.InvalidImage):
        processor.variants(data, SIZES)

    assert not isinstance(inspected.value, errors.ImageTooLarge)
    assert isinstance(inspected.value, errors.ValidationError)
    assert inspected.value.message.startswith("Dit bestand is geen bruikbare afbeelding")


@pytest.mark.parametrize("name", list(BOMBS))
def test_decompression_bombs_are_refused_before_decoding(
    processor: ImageProcessor, name: str
) -> None:
    data = BOMBS[name]()
    assert len(data) < 200_000

    started = time.perf_counter()
    with pytest.raises(errors.ImageTooLarge) as inspected:
        processor.inspect(data)
    with pytest.raises(errors.ImageTooLarge):
        processor.variants(data, SIZES)

    assert time.perf_counter() - started < 2, "refused from the header, without decoding"
    assert "pixels" in inspected.value.message
    assert isinstance(inspected.value, errors.ValidationError)


def test_the_pixel_limit_is_a_setting() -> None:
    small = encode(two_colour(200, 100), "PNG")
    for processor in (
        MemoryImageProcessor(max_pixels=19_999),
        PillowImageProcessor(max_pixels=19_999),
    ):
        with pytest.raises(errors.ImageTooLarge):
            processor.inspect(small)
    for processor in (
        MemoryImageProcessor(max_pixels=20_000),
        PillowImageProcessor(max_pixels=20_000),
    ):
        assert processor.inspect(small) == ImageInfo(format="png", width=200, height=100)


def test_the_default_limit_lets_a_48_megapixel_photo_through() -> None:
    assert DEFAULT_MAX_PIXELS >= 8064 * 6048
    assert MemoryImageProcessor().max_pixels == DEFAULT_MAX_PIXELS


# --- what only real pixels can show (Pillow) ---------------------------------------------------


def colour_at(data: bytes, x: float, y: float) -> tuple[int, ...]:
    with PILImage.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        pixel = rgb.getpixel((int(x * (rgb.width - 1)), int(y * (rgb.height - 1))))
    assert isinstance(pixel, tuple)
    return pixel


def is_red(colour: tuple[int, ...]) -> bool:
    return colour[0] > 150 and colour[2] < 100


def is_blue(colour: tuple[int, ...]) -> bool:
    return colour[2] > 150 and colour[0] < 100


def test_pillow_turns_the_pixels_as_the_exif_orientation_says() -> None:
    # Orientation 6: the stored top row is shown as the right-hand side.
    variant = PillowImageProcessor().variants(phone_photo(6), {"md": 800})["md"]

    assert is_blue(colour_at(variant, 0.1, 0.5))
    assert is_red(colour_at(variant, 0.9, 0.5))

    upside_down = PillowImageProcessor().variants(phone_photo(3), {"md": 800})["md"]
    assert is_blue(colour_at(upside_down, 0.5, 0.1))
    assert is_red(colour_at(upside_down, 0.5, 0.9))


def test_pillow_puts_transparent_areas_on_white() -> None:
    variant = PillowImageProcessor().variants(transparent_png(), {"sm": 400})["sm"]

    assert is_blue(colour_at(variant, 0.1, 0.5))
    assert min(colour_at(variant, 0.9, 0.5)) > 245


def test_pillow_keeps_the_colours_of_a_cmyk_photo() -> None:
    variant = PillowImageProcessor().variants(cmyk_jpeg(), {"sm": 400})["sm"]

    assert is_red(colour_at(variant, 0.5, 0.1))
    assert is_blue(colour_at(variant, 0.5, 0.9))


def test_pillow_scales_16_bit_grey_to_8_bits() -> None:
    variant = PillowImageProcessor().variants(sixteen_bit_png(), {"sm": 400})["sm"]

    assert abs(colour_at(variant, 0.5, 0.5)[0] - 40_000 / 257) < 3


def test_pillow_variants_are_small_enough_for_the_web() -> None:
    variants = PillowImageProcessor().variants(phone_photo(), SIZES)

    assert len(variants["lg"]) < 400_000
    assert len(variants["sm"]) < len(variants["md"]) < len(variants["lg"])
