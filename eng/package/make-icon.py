#!/usr/bin/env python3
"""Draws eng/package/icon.png (128x128): an ember-coloured kiln arch with a fire on a dark tile. No dependencies."""
import math, struct, zlib, pathlib

N = 128
def pixel(x, y):
    cx, cy = x + 0.5 - N / 2, y + 0.5 - N / 2
    # rounded dark tile
    r, m = 22, N / 2 - 4
    dx, dy = max(abs(cx) - (m - r), 0), max(abs(cy) - (m - r), 0)
    if math.hypot(dx, dy) > r:
        return (0, 0, 0, 0)
    bg = (38, 34, 46, 255)
    # kiln: an arch (half disc on a rectangle), brick colour, with an opening
    ax, ay = cx, cy - 4
    outer = (ay <= 0 and math.hypot(ax, ay) <= 40) or (0 < ay <= 36 and abs(ax) <= 40)
    inner = (ay <= 10 and math.hypot(ax, ay - 10) <= 20) or (10 < ay <= 36 and abs(ax) <= 20)
    if outer and not inner:
        shade = 1.0 - 0.25 * ((ay + 40) / 76)
        return (int(196 * shade), int(92 * shade), int(52 * shade), 255)
    if inner:
        # fire: bright at the bottom, fading up
        t = max(0.0, min(1.0, (36 - ay) / 46))
        return (255, int(220 - 150 * t), int(80 - 70 * t), 255)
    return bg

rows = b"".join(b"\x00" + bytes(c for x in range(N) for c in pixel(x, y)) for y in range(N))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
pathlib.Path(__file__).with_name("icon.png").write_bytes(png)
