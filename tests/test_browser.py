"""Tests of tests/browser.py, the headless-Chromium helper: it must see what a page renders,
report the page's errors and tell a blank screenshot from a drawn one, so that a test built
on it cannot pass without looking."""
from __future__ import annotations

import struct
import time
import zlib

import pytest

import browser

#: each render (start Chromium, load, evaluate, screenshot, kill) must stay under this
RENDER_BUDGET = 10.0


def _needs_chromium():
    pytest.importorskip("websocket", reason="websocket-client is not installed (pip install websocket-client)")
    if browser.chromium_path() is None:
        pytest.skip("chromium is not installed (Debian package chromium; .ci/run installs it)")


def _render(tmp_path, body: str, **kwargs) -> browser.Rendered:
    _needs_chromium()
    page = tmp_path / "page.html"
    page.write_text(f"<!doctype html>\n<html><head><meta charset='utf-8'><title>t</title></head>"
                    f"<body>{body}</body></html>\n")
    start = time.monotonic()
    result = browser.render(page, **kwargs)
    elapsed = time.monotonic() - start
    print(f"render took {elapsed:.2f}s")
    assert elapsed < RENDER_BUDGET, f"render took {elapsed:.1f}s"
    return result


def test_svg_page_renders(tmp_path):
    svg = ("<svg xmlns='http://www.w3.org/2000/svg' width='300' height='200'>"
           "<rect x='10' y='10' width='280' height='180' fill='#3060c0'/>"
           "<circle cx='150' cy='100' r='60' fill='#e04020'/></svg>")
    count = "document.querySelectorAll('svg').length"
    r = _render(tmp_path, svg, expressions=[count, "document.title", "window.noSuchThing"], width=800)
    assert r.values == {count: 1, "document.title": "t", "window.noSuchThing": None}
    assert r.console_errors == []
    assert browser.png_size(r.screenshot)[0] == 800
    assert not browser.png_is_blank(r.screenshot)


def test_uncaught_exception_is_reported(tmp_path):
    r = _render(tmp_path, "<script>null.boom();</script>", height=300)
    assert len(r.console_errors) == 1
    assert "TypeError" in r.console_errors[0] and "page.html" in r.console_errors[0]


def test_console_error_is_reported(tmp_path):
    r = _render(tmp_path, "<script>console.log('fine'); console.warn('meh'); console.error('x');</script>",
                height=300)
    assert r.console_errors == ["x"]


def test_missing_resource_is_reported(tmp_path):
    r = _render(tmp_path, "<img src='missing.png' alt=''>", height=300)
    assert len(r.console_errors) == 1 and "ERR_FILE_NOT_FOUND" in r.console_errors[0]


def test_blank_page_is_blank(tmp_path):
    r = _render(tmp_path, "", width=640, height=480)
    assert browser.png_size(r.screenshot) == (640, 480)
    assert browser.png_is_blank(r.screenshot)
    assert r.console_errors == []


def test_failing_expression_and_missing_file_raise(tmp_path):
    with pytest.raises(RuntimeError, match="threw"):
        _render(tmp_path, "", expressions=["undefinedName.x"], height=300)
    with pytest.raises(RuntimeError, match="ERR_FILE_NOT_FOUND"):
        browser.render(tmp_path / "absent.html", timeout=20)


# --- the PNG reader, on hand-made images -----------------------------------------------------

def _png(rows: list[list[tuple[int, ...]]], filters: list[int]) -> bytes:
    """A PNG of the given pixels (all RGB or all RGBA), each row written with the given filter."""
    bpp = len(rows[0][0])
    raw, prior = b"", bytes(len(rows[0]) * bpp)
    for pixels, kind in zip(rows, filters):
        line = bytes(v for pixel in pixels for v in pixel)
        out = bytearray()
        for i, x in enumerate(line):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prior[i], (prior[i - bpp] if i >= bpp else 0)
            p = a + b - c
            paeth = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c
            out.append((x - (0, a, b, (a + b) // 2, paeth)[kind]) & 0xFF)
        raw += bytes([kind]) + bytes(out)
        prior = line

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", len(rows[0]), len(rows), 8, 2 if bpp == 3 else 6, 0, 0, 0)
    # split the image data over two IDAT chunks, as a reader must accept
    data = zlib.compress(raw)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data[:5]) + chunk(b"IDAT", data[5:])
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("bpp", [3, 4])
def test_png_is_blank_on_hand_made_images(bpp):
    grey, red = (200, 200, 200, 255)[:bpp], (255, 0, 0, 255)[:bpp]
    filters = [0, 1, 2, 3, 4, 4, 3, 2, 1, 0]     # every filter type, above and below each other
    uniform = [[grey] * 7 for _ in filters]
    assert browser.png_size(_png(uniform, filters)) == (7, 10)
    assert browser.png_is_blank(_png(uniform, filters))
    for y, x in [(0, 0), (4, 3), (9, 6)]:      # one differing pixel anywhere is found
        spotted = [list(row) for row in uniform]
        spotted[y][x] = red
        assert not browser.png_is_blank(_png(spotted, filters))
    if bpp == 4:                                # alpha counts as part of the colour
        faded = [list(row) for row in uniform]
        faded[5][2] = grey[:3] + (254,)
        assert not browser.png_is_blank(_png(faded, filters))


def test_png_reader_rejects_what_it_does_not_support():
    with pytest.raises(ValueError):
        browser.png_is_blank(b"GIF89a")
    rgb = _png([[(1, 2, 3)]], [0])
    grey = rgb.replace(struct.pack(">BB", 8, 2), struct.pack(">BB", 8, 0), 1)   # colour type 0
    with pytest.raises(ValueError, match="colour type 0"):
        browser.png_is_blank(grey)
