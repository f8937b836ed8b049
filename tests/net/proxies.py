"""Real proxies for the field tests, started by each test on 127.0.0.1 and stopped by it:
Debian's tinyproxy (with or without Basic auth, with a CONNECT port policy), mitmproxy's mitmdump
(a TLS-intercepting proxy) and a socket that accepts and never answers. Each keeps its own log, so
a test proves through the proxy itself that a request did or did not pass it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.net.net_helpers import free_port

TINYPROXY = shutil.which("tinyproxy")
_ROOT = Path(__file__).resolve().parents[2]
MITMDUMP = _ROOT / ".venv" / "mitm" / "bin" / "mitmdump"

needs_tinyproxy = pytest.mark.skipif(
    TINYPROXY is None, reason="tinyproxy is not installed (make .venv/.tools installs it by apt)"
)
needs_mitmdump = pytest.mark.skipif(
    not MITMDUMP.exists(),
    reason=f"mitmdump is missing at {MITMDUMP} (make .venv/.tools installs mitmproxy there)",
)


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {seconds} s")


class Tinyproxy:
    def __init__(self, log: Path, port: int) -> None:
        self.log_path, self.port = log, port
        self.url = f"http://127.0.0.1:{port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def connects(self) -> list[str]:
        """The CONNECT (and forwarded) request lines the proxy logged."""
        return [
            line.split("): ", 1)[1]
            for line in self.log().splitlines()
            if "Request (file descriptor" in line
        ]


@contextmanager
def tinyproxy(
    tmp: Path, *, auth: tuple[str, str] | None = None, connect_ports: tuple[int, ...] = ()
) -> Iterator[Tinyproxy]:
    if TINYPROXY is None:
        pytest.skip("tinyproxy is not installed")
    port = free_port()
    folder = tmp / f"tinyproxy-{port}"
    folder.mkdir()
    lines = [
        f"Port {port}",
        "Listen 127.0.0.1",
        "Timeout 15",
        "MaxClients 20",
        "Allow 127.0.0.1",
        "LogLevel Info",
        "DisableViaHeader Yes",
    ]
    if auth:
        lines.append(f"BasicAuth {auth[0]} {auth[1]}")
    lines += [f"ConnectPort {p}" for p in connect_ports]
    (folder / "tinyproxy.conf").write_text("\n".join(lines) + "\n")
    log = folder / "tinyproxy.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [TINYPROXY, "-d", "-c", str(folder / "tinyproxy.conf")],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_port(port, proc, "tinyproxy")
        yield Tinyproxy(log, port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class Mitmdump:
    def __init__(self, log: Path, port: int, confdir: Path) -> None:
        self.log_path, self.port, self.confdir = log, port, confdir
        self.url = f"http://127.0.0.1:{port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def mitmdump(tmp: Path, *options: str) -> Iterator[Mitmdump]:
    """A TLS-inspecting proxy: it answers each CONNECT with its own certificate for the target,
    issued by its own CA ("mitmproxy"), and accepts any upstream certificate."""
    if not MITMDUMP.exists():
        pytest.skip(f"mitmdump is missing at {MITMDUMP}")
    port = free_port()
    folder = tmp / f"mitm-{port}"
    folder.mkdir()
    log = folder / "mitmdump.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(MITMDUMP),
                "--listen-host",
                "127.0.0.1",
                "--listen-port",
                str(port),
                "--set",
                f"confdir={folder / 'conf'}",
                "--ssl-insecure",
                *options,
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_port(port, proc, "mitmdump", seconds=60)
        yield Mitmdump(log, port, folder / "conf")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class SilentListener:
    """Accepts connections and never answers (nor closes them) until stopped."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)

    def __enter__(self) -> SilentListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self.sock.close()
