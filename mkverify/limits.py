"""Clean stops: a wall-clock limit (`--timeout`) and SIGINT/SIGTERM.

A run that must stop early is not killed: the engines poll `Stop.reason()`
(the C enumerator between chunks, about every 50 ms; the reference explorer
every 1024 transitions; the z3 engine between queries) and return what they
have, with the verdict `incomplete` (unless a violation was already found),
the partial statistics and every finding in full. A query z3 is in the middle
of is interrupted from a watcher thread, since a Python signal handler only
runs once the C call returns.

The first SIGINT or SIGTERM asks for a clean stop; a second SIGINT raises
KeyboardInterrupt as usual (mkverify then exits 3 with no result). In the C
enumerator, which by then is already stopping, the second one is absorbed
and the result of the first is printed.
"""
from __future__ import annotations

from contextlib import contextmanager
import os
import signal
import threading
import time


class Stop:
    """Why the run must stop, or None: polled by the engines."""

    def __init__(self, timeout: float | None = None):
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout if timeout else None
        self.signal: str | None = None
        self._interrupters: list = []
        self._lock = threading.Lock()

    def reason(self) -> str | None:
        if self.signal:
            return "interrupted"  # the value Ctrl-C always gave; which signal it was is in a note (cli.py)
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return f"time limit {self.timeout:g} s reached"
        return None

    def __call__(self) -> str | None:
        return self.reason()

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    @contextmanager
    def interruptible(self, interrupt):
        """While inside, a stop also calls `interrupt()` (thread-safe, e.g. a z3 context's), at once and then
        every 100 ms, so a long C call returns."""
        with self._lock:
            self._interrupters.append(interrupt)
        try:
            yield
        finally:
            with self._lock:
                self._interrupters.remove(interrupt)

    def _interrupt_all(self) -> None:
        with self._lock:
            calls = list(self._interrupters)
        for f in calls:
            f()


@contextmanager
def watch(timeout: float | None = None):
    """A Stop for the duration of a command: SIGINT and SIGTERM handlers (main thread only), and a watcher
    thread that interrupts C calls once the deadline passes or a signal arrives."""
    stop = Stop(timeout)
    done = threading.Event()
    rfd = wfd = None
    old = {}
    main = threading.current_thread() is threading.main_thread()

    seen: list = []  # signals this handler has run for (the watcher may have noted the first already)

    def handler(signum, frame):
        if signum == signal.SIGINT and signal.SIGINT in seen:
            raise KeyboardInterrupt
        seen.append(signum)
        stop.signal = stop.signal or signal.Signals(signum).name

    if main:
        rfd, wfd = os.pipe()
        os.set_blocking(wfd, False)
        old_wakeup = signal.set_wakeup_fd(wfd, warn_on_full_buffer=False)
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, handler)

    def watcher():
        # the C-level handler writes the signal's number to the pipe even while the main thread is
        # inside a C call; the deadline is a timeout on the same wait
        import select
        while not done.is_set():
            wait = 0.1 if stop.reason() else (min(stop.remaining(), 0.5) if stop.deadline is not None else 0.5)
            if rfd is not None:
                ready, _, _ = select.select([rfd], [], [], wait)
                if ready:
                    # every signal with a Python handler is written here; only ours stop the run
                    for byte in os.read(rfd, 64):
                        if byte in (signal.SIGINT, signal.SIGTERM) and not stop.signal:
                            stop.signal = signal.Signals(byte).name
            else:
                done.wait(wait)
            if stop.reason():
                stop._interrupt_all()

    thread = threading.Thread(target=watcher, name="mkverify-stop", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        done.set()
        thread.join(timeout=5)
        if main:
            for sig, h in old.items():
                signal.signal(sig, h if h is not None else signal.SIG_DFL)  # None: installed from C
            signal.set_wakeup_fd(old_wakeup)
            if not thread.is_alive():  # else it may still select() on them: leave them to the exit
                os.close(rfd)
                os.close(wfd)
