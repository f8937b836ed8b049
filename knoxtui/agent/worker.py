"""The agent's warm worker: the modules commands need, imported once in the agent, and the child
it forks per command (`knoxtui.agent.warm` is the other end).

The child takes the client's cwd, umask, environment (proxies and all) and stdin/stdout/stderr,
runs `knoxtui.cli.main(argv)` as the command line would, and writes its exit code back. It holds
no copy of the agent's key: it wipes its inherited page and asks the agent over the socket like
any command. Decrypted values live only in the child, which exits.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import socket
import sys
import threading
from typing import Any

# What the commands import; never Textual or Rich (the console runs in-process).
PREIMPORT = (
    "knoxtui.cli",
    "knoxtui.commands.common",
    "knoxtui.commands.inspect",
    "knoxtui.commands.secret",
    "knoxtui.commands.route",
    "knoxtui.commands.audit",
    "knoxtui.commands.request",
    "knoxtui.commands.lifecycle",
    "knoxtui.commands.remote",
    "knoxtui.vault",
    "knoxtui.pki",
    "knoxtui.routes",
    "knoxtui.net",
    "knoxtui.net.proxy",
    "knoxtui.safetext",
    "sqlcipher3",
    "httpx",
    "httpcore",
    "h2.connection",
    "cryptography.x509",
    "cryptography.hazmat.primitives.serialization",
    "cryptography.hazmat.primitives.serialization.pkcs12",
    "certifi",
    "ssl",
    "getpass",
)
MAX_RUN_REQUEST = 1024 * 1024  # argv and environment


def preimport() -> list[str]:
    """Import what commands need; returns the modules that could not be imported."""
    missing = []
    for name in PREIMPORT:
        try:
            importlib.import_module(name)
        except Exception:  # an optional part: the child imports it if it can
            missing.append(name)
    return missing


class NeedsTerminal(BaseException):
    """The command would ask on a terminal: the child has none, so the client runs it itself."""


def _no_prompt(*args: Any, **kwargs: Any) -> str:
    raise NeedsTerminal


def read_request(conn: socket.socket) -> dict[str, Any]:
    """The rest of a warm request (after the vault's name): argv, cwd, umask, environment and
    the client's stream encodings, in marshal (knoxtui.agent.warm must stay cheap; the peer is
    this user, checked by SO_PEERCRED, who could ask the agent for the key itself anyway)."""
    import marshal
    import struct

    from knoxtui.agent.server import _read_exactly, valid_run

    conn.settimeout(3.0)
    (size,) = struct.unpack("!I", _read_exactly(conn, 4))
    if size > MAX_RUN_REQUEST:
        raise ValueError("request too long")
    request = marshal.loads(_read_exactly(conn, size))
    if not valid_run(request):
        raise ValueError("not a command to run")
    return dict(request)


def run_child(conn: socket.socket, fds: list[int], close: Any) -> None:
    """In the forked child: become the client's command and never return."""
    code = 1
    started = False
    try:
        close()  # the listener and the key page: nothing of the agent's stays in the child
        request = read_request(conn)
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in dict(request["env"]).items()})
        with contextlib.suppress(AttributeError):
            import time

            time.tzset()
        os.umask(int(request["umask"]) & 0o777)
        os.chdir(str(request["cwd"]))
        _streams(request.get("streams"))
        argv = [str(word) for word in request["argv"]]
        sys.argv = ["knoxtui", *argv]
        if os.isatty(0):
            import builtins
            import getpass

            getpass.getpass = _no_prompt
            builtins.input = _no_prompt
        conn.settimeout(None)
        _send(conn, f"START {os.getpid()}")
        started = True
        threading.Thread(target=_watch, args=(conn,), daemon=True).start()
        code = _run(argv, conn)
    except BaseException:  # the child must reach os._exit
        code = 1
    finally:
        with contextlib.suppress(BaseException):
            # Failing before the command started (a cwd gone, ...): the client runs it itself.
            _send(conn, f"EXIT {code}" if started else "LOCAL")
        os._exit(code)


def _run(argv: list[str], conn: socket.socket) -> int:
    from knoxtui.cli import main

    try:
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage errors (2), --help (0)
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except NeedsTerminal:
            _send(conn, "LOCAL")
            os._exit(0)
        except KeyboardInterrupt:
            print("knoxtui: interrupted", file=sys.stderr)
            code = 130
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    except KeyboardInterrupt:
        code = 130
    return int(code)


def _streams(spec: Any) -> None:
    """Text streams on the client's descriptors, encoded as the client's would have been."""
    specs = spec if isinstance(spec, list) and len(spec) == 3 else [["utf-8", "strict"]] * 3
    made: list[Any] = []
    for fd, (encoding, errors) in enumerate(specs):
        mode = "r" if fd == 0 else "w"
        tty = os.isatty(fd)
        made.append(
            open(  # noqa: SIM115 - the process's own streams, closed when it exits
                fd,
                mode,
                encoding=str(encoding or "utf-8"),
                errors=str(errors or "strict"),
                closefd=False,
                buffering=-1 if fd == 0 else 1 if (tty or fd == 2) else -1,
            )
        )
    sys.stdin, sys.stdout, sys.stderr = made
    for name, stream in zip(("__stdin__", "__stdout__", "__stderr__"), made, strict=True):
        sys.__dict__[name] = stream  # what the interpreter's own fallbacks write to


def _send(conn: socket.socket, message: str) -> None:
    """One line to the client: START pid, then EXIT code, or LOCAL (run it yourself)."""
    conn.sendall(message.encode() + b"\n")


def _watch(conn: socket.socket) -> None:
    """The client's signals, passed on: INT raises KeyboardInterrupt in the command, TERM ends
    it; the client gone (EOF) ends it too."""
    data = b""
    while True:
        try:
            chunk = conn.recv(64)
        except OSError:
            chunk = b""
        if not chunk:
            os.kill(os.getpid(), signal.SIGTERM)
            return
        data += chunk
        while b"\n" in data:
            line, data = data.split(b"\n", 1)
            if line == b"INT":
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
            elif line in (b"TERM", b"HUP"):
                os.kill(os.getpid(), signal.SIGTERM if line == b"TERM" else signal.SIGHUP)
