"""QR codes in camera frames, read with zxing-cpp: the door page's fallback where the browser
has no `BarcodeDetector`.

Pillow opens the frame (JPEG or PNG only, bounded in bytes and pixels before decoding), zxing
reads QR codes only. A frame that is not an image, or holds no QR code, reads as nothing.
"""

from __future__ import annotations

import io
import warnings

import zxingcpp
from PIL import Image

FRAME_FORMATS = ("JPEG", "PNG")
MAX_FRAME_PIXELS = 4096 * 4096


class QrFrameReader:
    def __init__(self, max_pixels: int = MAX_FRAME_PIXELS) -> None:
        self.max_pixels = max_pixels

    def read(self, frame: bytes) -> list[str]:
        """The texts of the QR codes in the frame, or [] when there is none to read."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(frame), formats=FRAME_FORMATS)
                if image.width * image.height > self.max_pixels:
                    return []
                grey = image.convert("L")
        except (OSError, ValueError, Image.DecompressionBombError, Warning):
            return []
        codes = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode)
        return [code.text for code in codes if code.valid]
