"""Issue 11 item 3: a crash must not write decrypted values to a core file. A real knoxtui
process runs with the core limit at 0 and (Linux) not dumpable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")

ROOT = Path(__file__).resolve().parents[2]


def _core_limit(limits: str) -> list[str]:
    line = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
    return line.split()[4:6]


def test_a_running_knoxtui_has_no_core_limit(tmp_path: Path) -> None:
    """`knoxtui lab` as a separate process: /proc/PID/limits shows soft and hard 0, and the
    process's /proc files are no longer readable as a dumpable process's (owner root)."""
    env = {"KNOXTUI_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "knoxtui", "lab", "--port", "0", "--dir", str(tmp_path / "lab")],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert first.startswith("knoxtui lab"), first
        limits = Path(f"/proc/{proc.pid}/limits").read_text()
        assert _core_limit(limits) == ["0", "0"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_main_marks_the_process_not_dumpable(tmp_path: Path) -> None:
    code = (
        "import ctypes, sys\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "before = libc.prctl(3, 0, 0, 0, 0)\n"
        "from knoxtui.cli import main\n"
        "main(['locate'])\n"
        "after = libc.prctl(3, 0, 0, 0, 0)\n"
        "print('DUMPABLE', before, after, file=sys.stderr)\n"
        "print(open('/proc/self/limits').read(), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"KNOXTUI_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    marker = next(line for line in done.stderr.splitlines() if line.startswith("DUMPABLE"))
    assert marker.split()[1:] == ["1", "0"]
    assert _core_limit(done.stderr) == ["0", "0"]


def test_wipe_zeroes_a_buffer() -> None:
    from knoxtui.process import wipe

    secret = bytearray(b"kp-Osprey-311")
    wipe(secret)
    assert secret == bytearray(len(b"kp-Osprey-311"))
