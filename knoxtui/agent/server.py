"""The agent process: binds the vault's socket, forks into the background and answers key,
status and lock requests from processes of the same user until it locks (idle, `knoxtui lock`,
`passwd`, `agent stop`, SIGTERM). Locking wipes the key, removes the socket and exits."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from knoxtui import paths
from knoxtui.agent import location
from knoxtui.agent.client import peer_uid
from knoxtui.agent.memory import LockedKey, disable_core_dumps

MAX_REQUEST = 4096
REQUEST_TIMEOUT = 1.0  # a client of ours sends its one line at once; a silent one waits no longer
SECRET_ENV = ("KNOXTUI_VAULT_PASSPHRASE",)
# How often an idle agent checks that its socket is still there (an agent nobody can reach, its
# socket deleted or replaced by a second `agent start`, exits instead of keeping the key).
WATCH_SECONDS = 2.0


class Agent:
    """The serving loop; one request at a time (they take microseconds)."""

    def __init__(
        self,
        vault: str,
        key: LockedKey,
        listener: socket.socket,
        path: Path,
        idle_seconds: float,
        hardening: dict[str, bool],
    ) -> None:
        self.vault = vault
        self.key = key
        self.listener = listener
        self.path = path
        self.inode = os.stat(path).st_ino
        self.idle_seconds = idle_seconds
        self.hardening = hardening
        self.started_at = datetime.now(UTC)
        self.last_used = time.monotonic()
        self.keys_served = 0
        self.refused_peers = 0
        self.warm_runs = 0
        self.children: set[int] = set()
        self.running = True

    def serve(self) -> str:
        """Answer until locked; returns why it stopped."""
        while self.running:
            remaining = self.last_used + self.idle_seconds - time.monotonic()
            if remaining <= 0:
                return "idle"
            try:
                ready, _, _ = select.select([self.listener], [], [], min(remaining, WATCH_SECONDS))
            except InterruptedError:
                continue
            self.reap()
            if not self.reachable():
                return "socket_gone"  # removed or replaced: nobody can ask us any more
            if not ready:
                continue
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            with conn:
                reason = self.handle(conn)
            if reason:
                return reason
        return "stopped"

    def reachable(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self.inode
        except OSError:
            return False

    def handle(self, conn: socket.socket) -> str | None:
        conn.settimeout(REQUEST_TIMEOUT)
        try:
            if peer_uid(conn) != os.getuid():
                self.refused_peers += 1
                return None  # closed without a word
            request, fds = self._read(conn)
        except (OSError, ValueError):
            return None
        op = request.get("op") if isinstance(request, dict) else None
        if op == "run":
            self.run(conn, request, fds)
            return None
        for fd in fds:  # descriptors only come with a command to run
            os.close(fd)
        reply: dict[str, Any]
        stop: str | None = None
        if op == "key":
            if request.get("vault") != self.vault:
                reply = {"ok": False, "error": "other_vault", "vault": self.vault}
            else:
                self.keys_served += 1
                self.last_used = time.monotonic()
                reply = {"ok": True, "vault": self.vault, "key": self.key.hex()}
        elif op == "status":
            reply = {"ok": True, **self.status()}
        elif op in ("lock", "stop"):
            reply = {"ok": True, "vault": self.vault}
            reason = request.get("reason")
            stop = reason if isinstance(reason, str) and reason.isidentifier() else str(op)
        else:
            reply = {"ok": False, "error": "unknown_request"}
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps(reply).encode() + b"\n")
        del reply
        return stop

    def _read(self, conn: socket.socket) -> tuple[Any, list[int]]:
        """One request, and the descriptors sent with it (only a command to run has them: its
        stdin, stdout and stderr). A JSON line (key, status, lock), or a command to run
        (knoxtui.agent.warm): b"W" and the vault's name, read here; the rest (argv, environment)
        is read by the forked child only."""
        data, fds, _flags, _addr = socket.recv_fds(conn, 5, 3)
        try:
            if data[:1] == b"W":
                return {"op": "run", "vault": self._read_vault(conn, data)}, fds
            while data and not data.endswith(b"\n"):
                chunk = conn.recv(MAX_REQUEST)
                if not chunk:
                    break
                data += chunk
                if len(data) > MAX_REQUEST:
                    raise ValueError("request too long")
            return json.loads(data or b"null"), fds
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise

    def _read_vault(self, conn: socket.socket, data: bytes) -> str:
        data += _read_exactly(conn, 5 - len(data))
        (size,) = struct.unpack("!I", data[1:5])
        if size > MAX_REQUEST:
            raise ValueError("vault name too long")
        return _read_exactly(conn, size).decode("utf-8", "surrogateescape")

    def run(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        """A command to run warm: a forked child becomes it (knoxtui.agent.worker)."""
        try:
            if request.get("vault") != self.vault or len(fds) != 3:
                with contextlib.suppress(OSError):
                    conn.sendall(b"REFUSED\n")
                return
            from knoxtui.agent import worker

            pid = os.fork()
            if pid == 0:
                worker.run_child(conn, fds, self.forget)  # never returns
            self.children.add(pid)
            self.warm_runs += 1
            self.last_used = time.monotonic()
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def forget(self) -> None:
        """In a warm child: drop the agent's listener and its mapping of the key page (shared
        with the agent: unmapped, not zeroed)."""
        self.key.unmap()
        with contextlib.suppress(OSError):
            self.listener.close()

    def reap(self) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ChildProcessError):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if not done:
                    continue
            self.children.discard(pid)

    def stop_children(self) -> None:
        """Locking ends every warm command at once (their client says so)."""
        self.reap()
        for pid in self.children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in self.children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.children.clear()

    def status(self) -> dict[str, Any]:
        self.reap()
        left = max(0.0, self.last_used + self.idle_seconds - time.monotonic())
        return {
            "pid": os.getpid(),
            "vault": self.vault,
            "socket": str(self.path),
            "started_at": self.started_at.isoformat().replace("+00:00", "Z"),
            "idle_minutes": self.idle_seconds / 60,
            "locks_in_seconds": round(left, 1),
            "keys_served": self.keys_served,
            "warm_runs": self.warm_runs,
            "warm_running": len(self.children),
            "refused_peers": self.refused_peers,
            "key_in_locked_memory": self.key.mlocked,
            "core_dumps_disabled": self.hardening.get("rlimit_core", False),
            "not_dumpable": self.hardening.get("not_dumpable", False),
        }

    def close(self) -> None:
        self.stop_children()
        self.key.wipe()
        with contextlib.suppress(OSError):
            self.listener.close()
        # Remove the socket only if it is still ours (a newer agent may have replaced it).
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self.inode:
                self.path.unlink()


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(min(65536, size - len(data)))
        if not chunk:
            raise ValueError("request cut short")
        data += chunk
    return data


def valid_run(request: Any) -> bool:
    """The shape knoxtui.agent.warm sends: strings where strings go, nothing else."""

    def strings(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)

    return (
        isinstance(request, dict)
        and strings(request.get("argv"))
        and isinstance(request.get("cwd"), str)
        and isinstance(request.get("umask"), int)
        and isinstance(request.get("env"), dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in request["env"].items())
        and isinstance(request.get("streams"), list)
        and len(request["streams"]) == 3
        and all(strings(pair) and len(pair) == 2 for pair in request["streams"])
    )


def bind(vault_path: Path) -> tuple[socket.socket, Path]:
    """A listening 0600 socket at the vault's address in a 0700 folder; a stale socket there
    (an agent that was killed) is replaced atomically."""
    path = location.socket_path(vault_path)
    paths.ensure_private_dir(path.parent.parent)
    paths.ensure_private_dir(path.parent)
    scratch = path.with_name(f".{path.stem}.{os.getpid()}.new")
    scratch.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        with location.sockaddr(scratch) as address:
            listener.bind(address)
        os.chmod(scratch, 0o600)
        listener.listen(16)
        os.replace(scratch, path)
    except BaseException:
        listener.close()
        scratch.unlink(missing_ok=True)
        raise
    finally:
        os.umask(old_umask)
    return listener, path


def _detach(keep: int) -> None:
    os.setsid()
    os.chdir("/")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)
    # Nothing of the parent's stays open (pipes of a caller waiting for EOF, files).
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)
    for name in SECRET_ENV:
        os.environ.pop(name, None)


def spawn(vault_path: Path, key: bytearray, idle_seconds: float) -> int:
    """Start the agent in the background; returns its pid once its socket accepts connections.
    The caller's copy of the key is wiped."""
    hardening = disable_core_dumps()  # inherited by the child
    listener, path = bind(vault_path)
    vault = location.vault_id(vault_path)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        listener.close()
        key[:] = bytes(len(key))
        return pid
    # The child: never returns into the command line's code.
    code = 0
    try:
        _detach(listener.fileno())
        locked = LockedKey(key)
        agent = Agent(vault, locked, listener, path, idle_seconds, hardening)

        def _terminate(signum: int, frame: object) -> None:
            agent.running = False
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        from knoxtui.agent import worker

        worker.preimport()  # once, before serving: every warm command starts from here
        import gc

        gc.collect()
        gc.freeze()  # what is imported stays out of the children's collections (and COW copies)
        try:
            agent.serve()
        finally:
            agent.close()
    except BaseException:
        code = 1
    finally:
        os._exit(code)
