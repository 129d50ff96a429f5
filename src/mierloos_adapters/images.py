"""Show images with Pillow: implements the `ImageProcessor` port.

Uploads are untrusted, so:
- only the JPEG, PNG, GIF and WebP decoders are ever tried (`Image.open(formats=...)`), so a
  file is never handed to one of Pillow's many other, rarely used parsers;
- the pixel count is checked against `max_pixels` right after the header is read, before
  any pixel is decoded (decompression bombs); Pillow's own, larger limit stays in place too;
- `inspect` decodes the whole image, so truncated and corrupt files are refused at upload
  time rather than in the job.

Variants are baseline-compatible progressive JPEGs on a white background (for transparent
images), in sRGB (an embedded ICC profile is converted, then dropped), with the EXIF
orientation applied and no metadata at all: the saved image is rebuilt from pixels only.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Final

from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from mierloos_core.errors import ImageTooLarge, InvalidImage
from mierloos_core.model.files import IMAGE_FORMATS, ImageInfo, fit_within

__all__ = ["DEFAULT_MAX_PIXELS", "PillowImageProcessor"]

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS: Final = 50_000_000  # a 48-megapixel phone photo passes; bombs do not
_PIL_FORMATS: Final = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
_SWAPS_SIDES: Final = frozenset({5, 6, 7, 8})  # EXIF orientations that turn the image 90°
_ORIENTATION_TAG: Final = 0x0112
_WHITE: Final = (255, 255, 255)


class PillowImageProcessor:
    """Thread-safe; share one instance."""

    def __init__(self, *, max_pixels: int = DEFAULT_MAX_PIXELS, quality: int = 85) -> None:
        if max_pixels < 1 or not 1 <= quality <= 95:
            raise ValueError("invalid image processor settings")
        self.max_pixels = max_pixels
        self.quality = quality

    # -- the ImageProcessor port --------------------------------------------------------------

    def inspect(self, data: bytes) -> ImageInfo:
        with self._open(data) as image:
            info = self._info(image)
            self._decode(image, scale_to=None)
        return info

    def variants(self, data: bytes, sizes: Mapping[str, int]) -> dict[str, bytes]:
        if not sizes or any(box < 1 for box in sizes.values()):
            raise ValueError("sizes must map names to positive sizes")
        with self._open(data) as image:
            info = self._info(image)
            self._decode(image, scale_to=max(sizes.values()))
            picture = self._prepare(image)
        out: dict[str, bytes] = {}
        # Largest first, each made from the one before: as sharp, and much faster than
        # starting from a large original every time.
        source = picture
        for name, box in sorted(sizes.items(), key=lambda item: -item[1]):
            width, height = fit_within(info.width, info.height, box)
            if source.size != (width, height):
                source = source.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
            out[name] = self._jpeg(source)
        return {name: out[name] for name in sizes}

    # -- internals ----------------------------------------------------------------------------

    def _open(self, data: bytes) -> Image.Image:
        try:
            image = Image.open(io.BytesIO(data), formats=list(_PIL_FORMATS))
        except Image.DecompressionBombError:
            raise self._too_large() from None
        except UnidentifiedImageError:
            raise InvalidImage(reason="not a JPEG, PNG, GIF or WebP file") from None
        except Exception as exc:  # any parser failure means: not an image we can use
            raise InvalidImage(reason=f"{type(exc).__name__}: {exc}") from None
        try:
            self._check_size(image.size)
        except BaseException:
            image.close()
            raise
        return image

    def _info(self, image: Image.Image) -> ImageInfo:
        fmt = _PIL_FORMATS.get(image.format or "")
        if fmt is None or fmt not in IMAGE_FORMATS:
            raise InvalidImage(reason=f"unsupported format {image.format}")
        width, height = image.size
        try:
            orientation = int(image.getexif().get(_ORIENTATION_TAG, 1))
        except Exception:  # unreadable EXIF: shown as stored
            orientation = 1
        if orientation in _SWAPS_SIDES:
            width, height = height, width
        return ImageInfo(format=fmt, width=width, height=height)

    def _check_size(self, size: tuple[int, int]) -> None:
        width, height = size
        if width < 1 or height < 1:
            raise InvalidImage(reason="empty image")
        if width * height > self.max_pixels:
            raise self._too_large()

    def _too_large(self) -> ImageTooLarge:
        megapixels = self.max_pixels / 1_000_000
        return ImageTooLarge(
            f"Deze afbeelding heeft te veel pixels (hoogstens {megapixels:g} megapixel). "
            "Kies een kleinere afbeelding.",
            max_pixels=self.max_pixels,
        )

    def _decode(self, image: Image.Image, *, scale_to: int | None) -> None:
        """Decode every pixel (refusing truncated or corrupt files).

        With `scale_to`, a JPEG may be decoded at 1/2, 1/4 or 1/8 scale as long as it still
        covers the largest variant: far less work and memory for the same result.
        """
        if scale_to is not None and image.format == "JPEG":
            image.draft(None, fit_within(image.width, image.height, scale_to))
        try:
            if ImageFile.LOAD_TRUNCATED_IMAGES:  # someone relaxed it process-wide
                raise InvalidImage(reason="truncated images must not be accepted")
            image.load()
        except InvalidImage:
            raise
        except Image.DecompressionBombError:
            raise self._too_large() from None
        except Exception as exc:
            raise InvalidImage(reason=f"{type(exc).__name__}: {exc}") from None
        self._check_size(image.size)

    def _prepare(self, image: Image.Image) -> Image.Image:
        """Oriented, in sRGB, RGB or L, with transparency flattened onto white."""
        try:
            oriented = ImageOps.exif_transpose(image)
        except Exception:  # broken EXIF: keep the image as stored
            oriented = image.copy()
        icc = image.info.get("icc_profile")
        picture = _flatten(oriented)
        if icc and picture.mode == "RGB":
            picture = _to_srgb(picture, icc)
        return picture

    def _jpeg(self, picture: Image.Image) -> bytes:
        # Rebuilt from its pixels alone, so no metadata (EXIF, XMP, comments, ICC) can follow.
        clean = Image.frombytes(picture.mode, picture.size, picture.tobytes())
        buffer = io.BytesIO()
        clean.save(
            buffer, "JPEG", quality=self.quality, optimize=True, progressive=True, subsampling=2
        )
        return buffer.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "L"):
        return image
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif image.mode in ("LA", "La", "PA", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, _WHITE)
        background.paste(image, mask=image.getchannel("A"))
        return background
    if image.mode in ("RGB", "L"):
        return image
    return image.convert("RGB")  # CMYK, YCbCr, 1, F ...


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except Exception as exc:  # a broken profile: use the pixels as they are
        log.info("ignoring an unusable ICC profile: %s", exc)
        return image
    return converted if converted is not None else image
