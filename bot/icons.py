"""Staffroom's Teams icons, drawn in code: a speech bubble with a play button (ask → watch).

``color_png()`` is the 192×192 full-colour icon, ``outline_png()`` the 32×32 outline Teams wants:
white on a transparent background, nothing else. A tiny PNG writer (zlib, no imaging library)
keeps the package free of a heavy dependency; shapes are signed distance functions, sampled 4×4
per pixel for smooth edges.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable

ACCENT = (0x2E, 0x6B, 0x5E)  # the manifest's accentColor
WHITE = (255, 255, 255)
SAMPLES = 4  # per axis, per pixel

Point = tuple[float, float]
Rgba = tuple[int, int, int, int]


def png(width: int, height: int, pixels: Callable[[int, int], Rgba]) -> bytes:
    """An 8-bit RGBA PNG of ``pixels(x, y)``."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixels(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


# --- shapes, in a unit square (0..1, y down) ------------------------------------------------


def _box(p: Point, lo: Point, hi: Point, radius: float) -> float:
    """Signed distance to a rounded rectangle (negative inside)."""
    cx, cy = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2
    hx, hy = (hi[0] - lo[0]) / 2 - radius, (hi[1] - lo[1]) / 2 - radius
    qx, qy = abs(p[0] - cx) - hx, abs(p[1] - cy) - hy
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - radius


def _triangle(p: Point, a: Point, b: Point, c: Point) -> float:
    """Signed distance to a triangle (negative inside)."""
    corners = (a, b, c)
    distance = math.inf
    signs = []
    for i in range(3):
        (x0, y0), (x1, y1) = corners[i], corners[(i + 1) % 3]
        ex, ey = x1 - x0, y1 - y0
        wx, wy = p[0] - x0, p[1] - y0
        t = max(0.0, min(1.0, (wx * ex + wy * ey) / (ex * ex + ey * ey)))
        distance = min(distance, math.hypot(wx - ex * t, wy - ey * t))
        signs.append(ex * wy - ey * wx >= 0)
    inside = all(signs) or not any(signs)
    return -distance if inside else distance


def bubble(p: Point) -> float:
    """The speech bubble: a rounded box with a tail at its lower left."""
    box = _box(p, (0.14, 0.18), (0.86, 0.70), 0.12)
    tail = _triangle(p, (0.28, 0.62), (0.27, 0.86), (0.50, 0.64))
    return min(box, tail)


def play(p: Point) -> float:
    return _triangle(p, (0.42, 0.31), (0.42, 0.57), (0.64, 0.44))


def _coverage(size: int, x: int, y: int, shape: Callable[[Point], float]) -> float:
    """The share of pixel (x, y) inside ``shape`` (a signed distance, negative inside)."""
    centre = shape(((x + 0.5) / size, (y + 0.5) / size))
    if abs(centre) > 0.75 / size:  # farther than half the pixel's diagonal: all in or all out
        return 1.0 if centre < 0 else 0.0
    hits = 0
    for i in range(SAMPLES):
        for j in range(SAMPLES):
            hits += shape(((x + (i + 0.5) / SAMPLES) / size, (y + (j + 0.5) / SAMPLES) / size)) <= 0
    return hits / (SAMPLES * SAMPLES)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], share: float) -> tuple[int, ...]:
    return tuple(round(x + (y - x) * share) for x, y in zip(a, b, strict=True))


def color_png(size: int = 192) -> bytes:
    """Accent background, white bubble, accent play button cut out of it."""

    def pixel(x: int, y: int) -> Rgba:
        white = _coverage(size, x, y, lambda p: max(bubble(p), -play(p)))
        r, g, b = _mix(ACCENT, WHITE, white)
        return (r, g, b, 255)

    return png(size, size, pixel)


def outline_png(size: int = 32) -> bytes:
    """White bubble outline and play button on transparency: only white, only alpha varies."""
    stroke = 1.6 / size  # about 1.6 px wide at 32 px

    def pixel(x: int, y: int) -> Rgba:
        alpha = _coverage(size, x, y, lambda p: min(abs(bubble(p)) - stroke / 2, play(p)))
        return (*WHITE, round(255 * alpha))

    return png(size, size, pixel)
