"""Keeping the agent's key out of swap and core dumps, where the platform allows."""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import resource
from typing import Any


def _libc() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True)  # the running program's symbols include libc
    except OSError:
        return None


def disable_core_dumps() -> dict[str, bool]:
    """No core file (RLIMIT_CORE 0) and, on Linux, not dumpable (no ptrace by the same user,
    /proc/PID/mem and environ for root only); says what took effect."""
    from knoxtui import process

    process.disable_core_dumps()
    try:
        no_core = resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)
    except (ValueError, OSError):
        no_core = False
    return {"rlimit_core": no_core, "not_dumpable": process.is_dumpable() is False}


class LockedKey:
    """The raw key on a page of its own (anonymous mmap): locked in RAM (mlock) where allowed,
    left out of core dumps (MADV_DONTDUMP), zeroed on wipe. Python copies made while answering
    a request are short-lived; the page is the only long-lived copy."""

    def __init__(self, key: bytearray) -> None:
        self._size = len(key)
        self._page = mmap.mmap(-1, mmap.PAGESIZE)
        self._page[: self._size] = key
        key[:] = bytes(self._size)  # the caller's copy is wiped
        with contextlib.suppress(AttributeError, OSError):
            self._page.madvise(mmap.MADV_DONTDUMP)
        self.mlocked = self._call("mlock")
        self._wiped = False

    def _call(self, name: str) -> bool:
        libc = _libc()
        function = getattr(libc, name, None) if libc is not None else None
        if function is None:
            return False
        function.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
        function.restype = ctypes.c_int
        view = ctypes.c_char.from_buffer(self._page)
        try:
            return bool(function(ctypes.addressof(view), mmap.PAGESIZE) == 0)
        finally:
            del view  # a live export would keep the mmap from closing

    @property
    def wiped(self) -> bool:
        return self._wiped

    def hex(self) -> str:
        if self._wiped:
            raise RuntimeError("the key was wiped")
        return self._page[: self._size].hex()

    def unmap(self) -> None:
        """In a forked child: unmap the page without zeroing it (the anonymous mapping is shared
        with the agent, whose key it still is)."""
        if not self._wiped:
            self._wiped = True
            self.mlocked = False
            self._page.close()

    def wipe(self) -> None:
        if self._wiped:
            return
        self._page[:] = bytes(mmap.PAGESIZE)
        self._wiped = True
        if self.mlocked:
            self._call("munlock")
            self.mlocked = False
        self._page.close()
