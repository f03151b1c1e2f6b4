"""Render a static local HTML file in headless Chromium, for tests.

`render(path)` starts a private Chromium (fresh profile, killed afterwards), opens the file,
waits for its load event and returns what a test asserts on: the console errors the page
produced, the values of JavaScript expressions evaluated after load and a PNG screenshot.
Chromium is driven over the Chrome DevTools Protocol (CDP) with `websocket-client`.

`png_is_blank` and `png_size` read PNGs with the standard library only (zlib and the five
PNG row filters), enough for the 8-bit RGB/RGBA non-interlaced images Chromium writes.
"""
from __future__ import annotations

import base64
import collections
from dataclasses import dataclass
import json
import math
import os
from pathlib import Path
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import zlib

from helpers import unsanitized_env


@dataclass
class Rendered:
    console_errors: list[str]   # console.error/assert, uncaught exceptions, Log entries of level "error"
    values: dict                # expression -> its value after load (JSON-like; undefined -> None)
    screenshot: bytes           # PNG, `width` pixels wide, the full page height (at least `height`)


def chromium_path() -> str | None:
    """The Chromium executable on PATH (Debian: chromium, Ubuntu: chromium-browser), else None."""
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


_DEVTOOLS_LINE = re.compile(r"DevTools listening on (ws://\S+)")
_MAX_HEIGHT = 16384    # Chromium cannot capture a texture taller than this


class _Chromium:
    """One browser process and one CDP websocket to it; every wait is bounded by `deadline`."""

    def __init__(self, exe: str, timeout: float):
        self.deadline = time.monotonic() + timeout
        self.profile = tempfile.mkdtemp(prefix="mkverify-chromium-")
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=30)
        self.ws_url: str | None = None
        self.listening = threading.Event()
        self.ws = None
        self.next_id = 0
        self.events: list[dict] = []          # events not consumed yet, oldest first
        self.console_errors: list[str] = []
        # --no-sandbox: CI runs as root, where Chromium refuses to start sandboxed.
        # --disable-dev-shm-usage: containers often have a tiny /dev/shm, which crashes Chromium.
        try:
            self.proc = subprocess.Popen(
                [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--remote-debugging-port=0", f"--user-data-dir={self.profile}", "--no-first-run",
                 "--no-default-browser-check", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                start_new_session=True,   # own process group: close() kills renderers and helpers too
                # without the sanitized run's preloaded ASan runtime: Chromium runs none of our C, and does
                # not start with it
                env=unsanitized_env())
        except OSError as e:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise RuntimeError(f"chromium: cannot start {exe}: {e}") from e
        # Drain stderr for the whole run (a full pipe would stall Chromium) and keep its tail.
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()

    def _read_stderr(self) -> None:
        with self.proc.stderr:
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip()
                self.stderr_tail.append(line)
                if (m := _DEVTOOLS_LINE.search(line)) and not self.listening.is_set():
                    self.ws_url = m.group(1)
                    self.listening.set()

    def fail(self, message: str):
        tail = "\n".join(self.stderr_tail) or "(empty)"
        raise RuntimeError(f"chromium: {message}\n--- tail of chromium's stderr ---\n{tail}")

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.fail("timed out")
        return left

    def connect(self) -> None:
        import websocket
        while not self.listening.wait(0.05):
            if self.proc.poll() is not None:
                self.reader.join(1)   # let the last lines of stderr arrive
                self.fail(f"exited with status {self.proc.returncode} before DevTools listened")
            if time.monotonic() > self.deadline:
                self.fail("timed out waiting for 'DevTools listening on ws://...'")
        # Send no Origin header: Chromium 111+ refuses clients whose Origin --remote-allow-origins
        # does not allow (websocket-client's default Origin, the DevTools host, passes today).
        self.ws_errors = (websocket.WebSocketException, OSError)
        self.ws_timeouts = (websocket.WebSocketTimeoutException, TimeoutError)
        try:
            self.ws = websocket.create_connection(self.ws_url, timeout=self.remaining(), suppress_origin=True)
        except self.ws_errors as e:
            self.fail(f"cannot connect to {self.ws_url}: {e!r}")

    def _receive(self) -> dict:
        self.ws.settimeout(self.remaining())
        try:
            return json.loads(self.ws.recv())
        except self.ws_errors as e:
            if isinstance(e, self.ws_timeouts):
                self.fail("timed out waiting for the DevTools protocol")
            self.fail(f"DevTools connection failed: {e!r}")

    def _note(self, event: dict) -> None:
        """Record a console error carried by `event`; keep every event for wait_event."""
        params, method = event.get("params", {}), event["method"]
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.console_errors.append(" ".join(_describe(a) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            d = params["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text", "exception")
            self.console_errors.append(f"{text} ({d.get('url', '?')}:{d.get('lineNumber', 0) + 1})")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(entry["text"] + (f" ({entry['url']})" if entry.get("url") else ""))
        self.events.append(event)

    def send(self, method: str, session: str | None = None, **params) -> dict:
        """Send one command and return its result; events arriving meanwhile are noted."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        try:
            self.ws.send(json.dumps(message))
        except self.ws_errors as e:
            self.fail(f"cannot send {method}: {e!r}")
        while True:
            reply = self._receive()
            if "method" in reply:
                self._note(reply)
            elif reply.get("id") == self.next_id:
                if "error" in reply:
                    self.fail(f"{method} failed: {reply['error']}")
                return reply.get("result", {})

    def wait_event(self, method: str, session: str) -> dict:
        """Consume and return the oldest `method` event of `session`, waiting for one if needed."""
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method and event.get("sessionId") == session:
                    return self.events.pop(i)
            event = self._receive()
            if "method" in event:
                self._note(event)

    def close(self) -> None:
        """Kill Chromium's process group and delete its profile, whatever state it is in."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)   # the group we created at launch
        except ProcessLookupError:
            pass
        try:
            if self.ws is not None:
                self.ws.shutdown()   # no closing handshake: the browser is gone
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            self.reader.join(5)
            shutil.rmtree(self.profile, ignore_errors=True)


def _describe(obj: dict) -> str:
    """Text of a CDP RemoteObject as the console would show it."""
    if "value" in obj:
        return obj["value"] if isinstance(obj["value"], str) else json.dumps(obj["value"])
    return obj.get("unserializableValue") or obj.get("description") or obj.get("type", "?")


def render(html: Path, expressions: list[str] = (), width=1280, height=2000, timeout=60.0) -> Rendered:
    """Load `html` in a `width` x `height` viewport; evaluate `expressions`; take a screenshot.

    Raises RuntimeError (with the tail of Chromium's stderr) if Chromium cannot be started,
    the page cannot be loaded, a protocol command or an expression fails, or `timeout`
    seconds pass in total.
    """
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium is not installed (neither chromium nor chromium-browser is on PATH)")
    url = Path(html).resolve().as_uri()
    browser = _Chromium(exe, timeout)
    try:
        browser.connect()
        # A fresh page, attached with a flat session: its messages share the browser socket.
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            browser.send(f"{domain}.enable", session)
        # Set the viewport before navigating, so the page is laid out once at this size.
        browser.send("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
                     deviceScaleFactor=1, mobile=False)
        browser.events.clear()
        nav = browser.send("Page.navigate", session, url=url)
        if nav.get("errorText"):
            browser.fail(f"cannot load {url}: {nav['errorText']}")
        # Wait for this document's load event (a late one of about:blank cannot pass the check).
        loaded = "document.readyState === 'complete' && location.protocol === 'file:'"
        while True:
            browser.wait_event("Page.loadEventFired", session)
            if browser.send("Runtime.evaluate", session, expression=loaded,
                            returnByValue=True)["result"].get("value"):
                break
        values = {}
        for expression in expressions:
            reply = browser.send("Runtime.evaluate", session, expression=expression,
                                 returnByValue=True, awaitPromise=True)
            if "exceptionDetails" in reply:
                d = reply["exceptionDetails"]
                browser.fail(f"evaluating {expression!r} threw: "
                             f"{d.get('exception', {}).get('description') or d.get('text')}")
            values[expression] = reply["result"].get("value")
        # The full page: the viewport's width, the document's height (at least the viewport's).
        content = browser.send("Page.getLayoutMetrics", session)["cssContentSize"]
        shot_height = min(max(height, math.ceil(content["height"])), _MAX_HEIGHT)
        shot = browser.send("Page.captureScreenshot", session, format="png", captureBeyondViewport=True,
                            clip={"x": 0, "y": 0, "width": width, "height": shot_height, "scale": 1})
        return Rendered(list(browser.console_errors), values, base64.b64decode(shot["data"]))
    finally:
        browser.close()


# --- PNG reading (standard library only) ---------------------------------------------------

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunks(png: bytes):
    if not png.startswith(_SIGNATURE):
        raise ValueError("not a PNG (bad signature)")
    pos = len(_SIGNATURE)
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        yield kind, png[pos + 8:pos + 8 + length]
        pos += 12 + length   # length, type, data, CRC


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk."""
    kind, data = next(_chunks(png), (None, b""))
    if kind != b"IHDR" or len(data) != 13:
        raise ValueError("PNG does not start with an IHDR chunk")
    return struct.unpack(">II", data[:8])


def _rows(png: bytes):
    """Yield the unfiltered scanlines of an 8-bit RGB or RGBA, non-interlaced PNG."""
    width, height = png_size(png)
    depth, colour, _compression, _filter, interlace = next(_chunks(png))[1][8:13]
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise ValueError(f"unsupported PNG: bit depth {depth}, colour type {colour}, interlace {interlace}"
                         " (only 8-bit RGB/RGBA, non-interlaced)")
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(data for kind, data in _chunks(png) if kind == b"IDAT"))
    if len(raw) != height * (stride + 1):
        raise ValueError("PNG image data has the wrong size")
    prior = bytearray(stride)
    for y in range(height):
        kind, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:      # Sub: add the byte one pixel to the left
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif kind == 2:    # Up: add the byte above
            row = bytearray((a + b) & 0xFF for a, b in zip(row, prior))
        elif kind == 3:    # Average: add the floor of the mean of left and above
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + prior[i]) >> 1)) & 0xFF
        elif kind == 4:    # Paeth: add whichever of left, above, upper-left is nearest to left+above-upper-left
            for i in range(stride):
                a, b, c = (row[i - bpp], prior[i], prior[i - bpp]) if i >= bpp else (0, prior[i], 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        elif kind != 0:
            raise ValueError(f"PNG row {y} has unknown filter type {kind}")
        yield bytes(row)
        prior = row


def png_is_blank(png: bytes) -> bool:
    """True when every pixel of the image has the same colour (alpha included)."""
    width, _height = png_size(png)
    expected = None
    for row in _rows(png):
        if expected is None:
            expected = row[:len(row) // width] * width   # the first pixel, repeated
        if row != expected:
            return False
    return True
