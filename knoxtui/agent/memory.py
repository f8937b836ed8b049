"""Keeping the agent's key out of swap and core dumps, where the platform allows."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import mmap
import resource
import sys
from typing import Any

PR_SET_DUMPABLE = 4


def _libc() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


def disable_core_dumps() -> dict[str, bool]:
    """No core file (RLIMIT_CORE 0) and, on Linux, not dumpable: no core, no ptrace attach by
    the same user, /proc/PID/mem and environ readable by root only."""
    done = {"rlimit_core": False, "not_dumpable": False}
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        done["rlimit_core"] = True
    if sys.platform.startswith("linux"):
        libc = _libc()
        if libc is not None:
            done["not_dumpable"] = libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
    return done


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

    def wipe(self) -> None:
        if self._wiped:
            return
        self._page[:] = bytes(mmap.PAGESIZE)
        self._wiped = True
        if self.mlocked:
            self._call("munlock")
            self.mlocked = False
        self._page.close()
