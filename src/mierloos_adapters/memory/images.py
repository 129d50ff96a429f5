"""An `ImageProcessor` in pure Python: reads image headers and structure, never pixels."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Mapping

from mierloos_core.errors import ImageTooLarge, InvalidImage
from mierloos_core.model.files import ImageInfo, fit_within


class MemoryImageProcessor:
    """An ImageProcessor in pure Python: reads headers and structure, never pixels.

    It knows JPEG, PNG, GIF and WebP as well as the Pillow adapter does for the port's purpose:
    the same sizes, EXIF orientation, pixel limit, and refusal of other files and of truncated
    ones. Its variants are uniform grey JPEGs (real, decodable files) of the right size.
    """

    def __init__(self, *, max_pixels: int = 50_000_000) -> None:
        self.max_pixels = max_pixels

    def inspect(self, data: bytes) -> ImageInfo:
        data = bytes(data)
        for signature, reader in _IMAGE_READERS:
            if data.startswith(signature):
                return reader(data, self._check_size)
        raise InvalidImage(reason="not a JPEG, PNG, GIF or WebP file")

    def variants(self, data: bytes, sizes: Mapping[str, int]) -> dict[str, bytes]:
        if not sizes or any(box < 1 for box in sizes.values()):
            raise ValueError("sizes must map names to positive sizes")
        info = self.inspect(data)
        return {
            name: _grey_jpeg(*fit_within(info.width, info.height, box))
            for name, box in sizes.items()
        }

    def _check_size(self, width: int, height: int) -> None:
        if width < 1 or height < 1:
            raise InvalidImage(reason="empty image")
        if width * height > self.max_pixels:
            raise ImageTooLarge(
                f"Deze afbeelding heeft te veel pixels (hoogstens {self.max_pixels / 1e6:g} "
                "megapixel). Kies een kleinere afbeelding.",
                max_pixels=self.max_pixels,
            )


_SizeCheck = Callable[[int, int], None]


def _broken(what: str) -> InvalidImage:
    return InvalidImage(reason=what)


def _oriented(fmt: str, width: int, height: int, orientation: int) -> ImageInfo:
    if orientation in (5, 6, 7, 8):  # turned a quarter: shown with its sides swapped
        width, height = height, width
    return ImageInfo(format=fmt, width=width, height=height)


def _exif_orientation(tiff: bytes) -> int:
    """The Orientation tag (1..8) of EXIF data (a TIFF structure); 1 when absent or unreadable."""
    if tiff.startswith(b"Exif\x00\x00"):
        tiff = tiff[6:]
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return 1
    try:
        if struct.unpack_from(order + "H", tiff, 2)[0] != 42:
            return 1
        ifd = struct.unpack_from(order + "I", tiff, 4)[0]
        for index in range(struct.unpack_from(order + "H", tiff, ifd)[0]):
            entry = ifd + 2 + 12 * index
            tag, kind = struct.unpack_from(order + "HH", tiff, entry)
            if tag == 0x0112 and kind == 3:  # Orientation, a SHORT
                value = int(struct.unpack_from(order + "H", tiff, entry + 8)[0])
                return value if 1 <= value <= 8 else 1
    except struct.error:
        return 1
    return 1


_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE})


def _read_jpeg(data: bytes, check: _SizeCheck) -> ImageInfo:
    pos, size, orientation = 2, None, 1
    while True:
        if pos >= len(data) or data[pos] != 0xFF:
            raise _broken("JPEG: bad marker")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos + 3 > len(data):
            raise _broken("JPEG: truncated")
        marker = data[pos]
        pos += 1
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue  # markers without a segment
        if marker == 0xD9:
            raise _broken("JPEG: ends before its image data")
        length = struct.unpack_from(">H", data, pos)[0]
        if length < 2 or pos + length > len(data):
            raise _broken("JPEG: truncated segment")
        payload = data[pos + 2 : pos + length]
        pos += length
        if marker in _JPEG_SOF:
            if len(payload) < 6:
                raise _broken("JPEG: short frame header")
            height, width = struct.unpack_from(">HH", payload, 1)
            check(width, height)
            size = (width, height)
        elif marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            orientation = _exif_orientation(payload)
        elif marker == 0xDA:
            if size is None:
                raise _broken("JPEG: image data before the frame header")
            # Entropy-coded data never holds FF D9 (an FF in it is followed by 00 or a RST
            # marker), so the end marker after the first scan means the file is complete.
            if data.find(b"\xff\xd9", pos) < 0:
                raise _broken("JPEG: truncated image data")
            return _oriented("jpeg", *size, orientation)


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _read_png(data: bytes, check: _SizeCheck) -> ImageInfo:
    pos, header, orientation = 8, b"", 1
    inflater = zlib.decompressobj()
    inflated = 0
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > len(data):
            raise _broken("PNG: truncated chunk")
        body = data[pos + 8 : pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack_from(">I", data, pos + 8 + length)[0]:
            raise _broken("PNG: damaged chunk")
        pos = end
        if not header:
            if kind != b"IHDR" or length != 13:
                raise _broken("PNG: no header")
            header = body
            check(*struct.unpack_from(">II", header))
        elif kind == b"eXIf":
            orientation = _exif_orientation(body)
        elif kind == b"IDAT":
            try:  # inflate in bounded steps, counting only: a bomb never sits in memory
                chunk = inflater.decompress(body, 1 << 16)
                inflated += len(chunk)
                while inflater.unconsumed_tail:
                    chunk = inflater.decompress(inflater.unconsumed_tail, 1 << 16)
                    inflated += len(chunk)
            except zlib.error:
                raise _broken("PNG: damaged image data") from None
        elif kind == b"IEND":
            width, height, depth, color, _, _, interlaced = struct.unpack(">IIBBBBB", header)
            channels = _PNG_CHANNELS.get(color)
            if channels is None:
                raise _broken("PNG: unknown colour type")
            needed = height * (1 + (width * channels * depth + 7) // 8)
            if inflated == 0 or (not interlaced and inflated < needed):
                raise _broken("PNG: truncated image data")
            return _oriented("png", width, height, orientation)
    raise _broken("PNG: truncated")


def _skip_gif_blocks(data: bytes, pos: int) -> int:
    while pos < len(data):
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
    raise _broken("GIF: truncated")


def _read_gif(data: bytes, check: _SizeCheck) -> ImageInfo:
    if len(data) < 13:
        raise _broken("GIF: truncated")
    width, height = struct.unpack_from("<HH", data, 6)
    check(width, height)
    flags = data[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    frames = 0
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            if not frames:
                break
            return ImageInfo(format="gif", width=width, height=height)
        if block == 0x21:  # extension: label, then data sub-blocks
            pos = _skip_gif_blocks(data, pos + 2)
        elif block == 0x2C:  # image descriptor
            if pos + 10 > len(data):
                break
            local = data[pos + 9]
            pos += 10 + (3 * (2 << (local & 7)) if local & 0x80 else 0) + 1
            pos = _skip_gif_blocks(data, pos)
            frames += 1
        else:
            raise _broken("GIF: unknown block")
    raise _broken("GIF: truncated")


def _read_webp(data: bytes, check: _SizeCheck) -> ImageInfo:
    if len(data) < 30 or data[8:12] != b"WEBP":
        raise _broken("not WebP")
    if struct.unpack_from("<I", data, 4)[0] + 8 > len(data):
        raise _broken("WebP: truncated")
    kind = data[12:16]
    if kind == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
    elif kind == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width = struct.unpack_from("<H", data, 26)[0] & 0x3FFF
        height = struct.unpack_from("<H", data, 28)[0] & 0x3FFF
    else:
        raise _broken("WebP: unknown kind")
    check(width, height)
    orientation, pos = 1, 12
    while pos + 8 <= len(data):
        fourcc, length = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if fourcc == b"EXIF":
            orientation = _exif_orientation(data[pos + 8 : pos + 8 + length])
        pos += 8 + length + (length & 1)
    return _oriented("webp", width, height, orientation)


_IMAGE_READERS: tuple[tuple[bytes, Callable[[bytes, _SizeCheck], ImageInfo]], ...] = (
    (b"\xff\xd8\xff", _read_jpeg),
    (b"\x89PNG\r\n\x1a\n", _read_png),
    (b"GIF87a", _read_gif),
    (b"GIF89a", _read_gif),
    (b"RIFF", _read_webp),
)


def _grey_jpeg(width: int, height: int) -> bytes:
    """A valid baseline JPEG, one grey channel, every pixel mid-grey.

    Every 8x8 block codes "no change, end of block" with one-bit Huffman codes: two zero bits.
    """

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload

    one_code = b"\x01" + b"\x00" * 15 + b"\x00"  # a single code of length 1, for symbol 0
    blocks = -(-width // 8) * -(-height // 8)
    whole, bits = divmod(2 * blocks, 8)
    scan = b"\x00" * whole + (bytes(((1 << (8 - bits)) - 1,)) if bits else b"")
    return b"".join(
        (
            b"\xff\xd8",
            segment(0xDB, b"\x00" + b"\x01" * 64),
            segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
            segment(0xC4, b"\x00" + one_code + b"\x10" + one_code),
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            scan,
            b"\xff\xd9",
        )
    )
