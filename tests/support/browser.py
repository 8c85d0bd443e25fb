"""Open a page in headless Chromium: its DOM after layout, a screenshot, its console errors.

Chromium (found by `tests.support.tools.chromium()`: missing, it fails in CI and skips
elsewhere) runs once per call with its own profile directory; the screenshot is decoded with
the standard library (8-bit RGB or RGBA PNG), so a test can ask whether a colour was drawn.
"""

from __future__ import annotations

import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.support.tools import chromium


@dataclass
class Rendered:
    dom: str
    pixels: list[list[tuple[int, int, int]]]  # rows of RGB
    console_errors: list[str]

    def count(self, rgb: tuple[int, int, int], tolerance: int = 12) -> int:
        """How many pixels have this colour (within `tolerance` per channel)."""
        r, g, b = rgb
        return sum(
            1
            for row in self.pixels
            for pr, pg, pb in row
            if abs(pr - r) <= tolerance and abs(pg - g) <= tolerance and abs(pb - b) <= tolerance
        )


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    argv += [f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def render(page: Path, width: int = 1400, height: int = 2400) -> Rendered:
    with tempfile.TemporaryDirectory(prefix="btai-chromium-") as tmp:
        shot = Path(tmp) / "shot.png"
        url = page.resolve().as_uri()
        size = f"--window-size={width},{height}"
        dumped = _chromium(["--dump-dom", size, url], Path(tmp) / "a")
        drawn = _chromium([f"--screenshot={shot}", size, url], Path(tmp) / "b")
        logs = dumped.stderr + drawn.stderr
        errors = [line for line in logs.splitlines() if _is_console_error(line)]
        return Rendered(dumped.stdout, decode_png(shot.read_bytes()), errors)


def _is_console_error(line: str) -> bool:
    if "Failed to load resource" in line:
        return True
    return "CONSOLE" in line and (":ERROR:" in line or "Uncaught" in line)


def decode_png(data: bytes) -> list[list[tuple[int, int, int]]]:
    """The RGB rows of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace != 0:
                raise ValueError("only 8-bit non-interlaced RGB(A) PNGs are decoded")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[list[tuple[int, int, int]]] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append([tuple(line[i : i + 3]) for i in range(0, stride, channels)])  # type: ignore[misc]
        previous = line
    return rows
