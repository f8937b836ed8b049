"""Stopping a request that is out: on cancel (the console's esc) or when its whole-request
deadline passes, the sockets of the request are shut down, so the blocking read in the worker
thread returns at once and the thread ends — nothing is left running behind."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable


class Cancellation:
    """A token the caller keeps: `cancel()` from any thread stops the request using it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if not self._cancelled:
                self._callbacks.append(callback)
                return
        callback()

    def forget(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


class SocketGuard:
    """The sockets one attempt opened; `stop()` shuts them all (and any opened later) down.

    It keeps its own duplicate of each descriptor: TLS wrapping detaches the original socket
    object, and a number kept after httpx closed its own could name someone else's socket."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.stopped = False
        self.deadline_passed = False

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        try:
            own = socket.socket(fileno=os.dup(sock.fileno()))
        except OSError:
            return
        with self._lock:
            self._sockets.append(own)
            stopped = self.stopped
        if stopped:
            _shutdown(own)

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def expire(self) -> None:
        self.deadline_passed = True
        self.stop()

    def close(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread for every deadline of the process (no thread per request)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._live: set[int] = set()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, delay: float, callback: Callable[[], None]) -> int:
        with self._cond:
            ident = next(self._ids)
            when = time.monotonic() + delay
            # Wake the thread only when this deadline comes first: requests with the same
            # timeout never do, so a request costs no thread switch.
            sooner = not self._heap or when < self._heap[0][0]
            heapq.heappush(self._heap, (when, ident, callback))
            self._live.add(ident)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="knoxtui-deadlines")
                self._thread.daemon = True
                self._thread.start()
            elif sooner:
                self._cond.notify()
        return ident

    def cancel(self, ident: int) -> None:
        with self._cond:
            self._live.discard(ident)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(1.0)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                when, ident, callback = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                self._live.discard(ident)
            callback()


_watchdog = _Watchdog()


def after(delay: float, callback: Callable[[], None]) -> Callable[[], None]:
    """Run `callback` once after `delay` seconds; returns the function that calls it off."""
    ident = _watchdog.schedule(delay, callback)
    return lambda: _watchdog.cancel(ident)
