"""Process-wide protections set once at start (DESIGN.md §5): no core dumps.

A core file holds every decrypted value in memory (keys, passphrases, tokens) and systemd-coredump
or apport keep it on disk. RLIMIT_CORE 0 stops the kernel writing one; PR_SET_DUMPABLE 0 also
keeps other processes of the same user (gdb, gcore, /proc/PID/mem) out, and core-dump helpers that
ignore the limit skip a non-dumpable process. Linux only; a no-op elsewhere except the rlimit.
Leaf module: standard library only.
"""

from __future__ import annotations

import contextlib
import sys

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def disable_core_dumps() -> None:
    """Set the core limit to 0 (soft and hard) and mark the process not dumpable. Never fails."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            _prctl(PR_SET_DUMPABLE, 0)


def is_dumpable() -> bool | None:
    """The kernel's dumpable flag of this process (Linux), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return bool(_prctl(PR_GET_DUMPABLE, 0))
    except (OSError, AttributeError):
        return None


def _prctl(option: int, value: int) -> int:
    import ctypes

    # The running program's own symbols include libc's; find_library would spawn ldconfig.
    libc = ctypes.CDLL(None, use_errno=True)
    result = int(libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0))
    if result < 0:
        raise OSError(ctypes.get_errno(), "prctl failed")
    return result


def wipe(buffer: bytearray | memoryview) -> None:
    """Overwrite a mutable buffer with zeros (what a lock can do for bytes we own)."""
    view = memoryview(buffer).cast("B")
    view[:] = bytes(len(view))
