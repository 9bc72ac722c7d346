"""Small, valid, deterministic product images made in code (PNG and baseline JPEG).

Contract: the same arguments always give the same bytes; different ``tag`` values give
different bytes (the tag is stored in a comment / text chunk), so two products never share an
image file by accident. The pixel content is a 2x2 grid of solid colours.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["make_png", "make_jpeg", "color_for"]

Color = tuple[int, int, int]


def color_for(seed: int) -> Color:
    """A deterministic, reasonably saturated colour for an integer."""
    value = (seed * 2654435761) & 0xFFFFFF
    return ((value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def make_png(colors: tuple[Color, Color, Color, Color], *, tag: str = "", size: int = 16) -> bytes:
    """A ``size`` x ``size`` RGB PNG split in four quadrants of the given colours."""
    half = size // 2
    raw = bytearray()
    for y in range(size):
        raw.append(0)  # filter type 0
        top = y < half
        left_color, right_color = (colors[0], colors[1]) if top else (colors[2], colors[3])
        raw.extend(bytes(left_color) * half)
        raw.extend(bytes(right_color) * (size - half))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    parts = [b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", header)]
    if tag:
        parts.append(_png_chunk(b"tEXt", b"Comment\x00" + tag.encode("latin-1", "replace")))
    parts.append(_png_chunk(b"IDAT", zlib.compress(bytes(raw), 9)))
    parts.append(_png_chunk(b"IEND", b""))
    return b"".join(parts)


# --- baseline JPEG, DC coefficients only (each 8x8 block is a solid colour) ---------------

# Standard luminance DC Huffman table (ITU T.81 Annex K.3): code lengths and symbols 0..11.
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALUES = tuple(range(12))
# AC table with a single symbol, EOB (0x00), coded "0": every block has no AC coefficient.
_AC_BITS = (1,) + (0,) * 15
_AC_VALUES = (0,)


def _huffman_codes(bits: tuple[int, ...], values: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    codes: dict[int, tuple[int, int]] = {}
    code = 0
    index = 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[index]] = (code, length)
            code += 1
            index += 1
        code <<= 1
    return codes


_DC_CODES = _huffman_codes(_DC_BITS, _DC_VALUES)
_AC_CODES = _huffman_codes(_AC_BITS, _AC_VALUES)


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._n = 0

    def write(self, value: int, length: int) -> None:
        for shift in range(length - 1, -1, -1):
            self._acc = (self._acc << 1) | ((value >> shift) & 1)
            self._n += 1
            if self._n == 8:
                self._emit(self._acc)
                self._acc = 0
                self._n = 0

    def _emit(self, byte: int) -> None:
        self.out.append(byte)
        if byte == 0xFF:
            self.out.append(0x00)  # byte stuffing

    def flush(self) -> bytes:
        if self._n:
            self._emit((self._acc << (8 - self._n)) | ((1 << (8 - self._n)) - 1))
            self._acc = 0
            self._n = 0
        return bytes(self.out)


def _encode_dc(writer: _BitWriter, diff: int) -> None:
    magnitude = abs(diff)
    category = magnitude.bit_length()
    code, length = _DC_CODES[category]
    writer.write(code, length)
    if category:
        bits = diff if diff > 0 else diff + (1 << category) - 1
        writer.write(bits, category)
    ac_code, ac_length = _AC_CODES[0]
    writer.write(ac_code, ac_length)


def _ycbcr(color: Color) -> tuple[int, int, int]:
    r, g, b = color
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    return tuple(max(0, min(255, round(c))) for c in (y, cb, cr))  # type: ignore[return-value]


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def make_jpeg(colors: tuple[Color, Color, Color, Color], *, tag: str = "") -> bytes:
    """A 16x16 baseline JPEG (YCbCr 4:4:4) of four solid 8x8 blocks of the given colours."""
    quant = bytes([0]) + bytes([1] * 64)  # table 0, 8-bit, all ones
    sof = struct.pack(">BHHB", 8, 16, 16, 3) + bytes([1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0])
    dht = (
        bytes([0x00]) + bytes(_DC_BITS) + bytes(_DC_VALUES)
        + bytes([0x10]) + bytes(_AC_BITS) + bytes(_AC_VALUES)
    )
    sos = bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0])
    writer = _BitWriter()
    previous = [0, 0, 0]
    for color in colors:  # MCU order: top-left, top-right, bottom-left, bottom-right
        for component, level in enumerate(_ycbcr(color)):
            dc = (level - 128) * 8  # FDCT DC term of a flat block, quantiser 1
            _encode_dc(writer, dc - previous[component])
            previous[component] = dc
    parts = [b"\xff\xd8", _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")]
    if tag:
        parts.append(_segment(0xFE, tag.encode("latin-1", "replace")))
    parts += [
        _segment(0xDB, quant),
        _segment(0xC0, sof),
        _segment(0xC4, dht),
        _segment(0xDA, sos),
        writer.flush(),
        b"\xff\xd9",
    ]
    return b"".join(parts)
