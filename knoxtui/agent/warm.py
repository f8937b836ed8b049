"""The `knoxtui` entry point: a thin client that lets the vault's agent run the command warm.

When an agent holds this vault's key, the command line (argv, cwd, environment, umask) and this
process's stdin/stdout/stderr (SCM_RIGHTS) go to it over its socket; it forks a child that already
has httpx, cryptography, SQLCipher and the command modules imported, and that child runs the same
`knoxtui.cli.main(argv)` on our descriptors (`knoxtui.agent.worker`). We wait for its exit code
and exit with it; Ctrl+C (SIGINT), SIGTERM and SIGHUP are passed on to the child. Without an
agent, for commands that must run here (the console, `agent`, `lock`, `passwd`, `demo`, `lab`),
or when the child finds it would have to ask on a terminal, the command runs in this process as
before. KNOXTUI_NO_WARM=1 always runs in-process.

Cheap on purpose: deciding imports only interpreter built-ins (`_socket`, `marshal`, `_stat`,
`_struct`, a SHA-256): `json`, `socket`, `pathlib` and `hashlib` alone would cost more than the
agent's whole answer. The socket is trusted as `knoxtui.agent.client` trusts it: the folder 0700
and the socket 0600, both ours, and the listening process ours (SO_PEERCRED) — checked before
anything is sent. Where this cannot tell (no SO_PEERCRED), the command runs in-process.
"""

from __future__ import annotations

import os
import sys

# Commands that must run in the process the user started: the console (no command), the agent's
# own commands and the ones that lock it, interactive tools.
LOCAL_COMMANDS = frozenset({"agent", "lock", "passwd", "demo", "lab"})
_GLOBAL_WITH_VALUE = ("--vault", "--vault-passphrase-file")
MAX_SOCKET_PATH = 100  # as knoxtui.agent.location
MAX_REPLY = 4096
EXIT_LOST = 1  # the child ended without an exit code (the agent locked, or it was killed)
# A warm request: b"W", the vault (4-byte big-endian length, UTF-8), then the rest (length,
# marshal). The agent reads only the vault; the forked child reads the rest, so the client's
# environment (passphrases, proxy passwords) never passes through the agent's own memory.
MAGIC = b"W"


def command_and_vault(argv: list[str]) -> tuple[str | None, str | None]:
    """The command word (first word that is not a global option) and a `--vault` value given
    anywhere on the line (the CLI accepts it before or after the subcommand)."""
    command = None
    vault = None
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--":
            break
        if word in _GLOBAL_WITH_VALUE:
            if word == "--vault" and index + 1 < len(argv):
                vault = argv[index + 1]
            index += 2
            continue
        if word.startswith("--vault="):
            vault = word.split("=", 1)[1]
        elif command is None and not word.startswith("-"):
            command = word
        elif command is None and not word.startswith("--vault"):
            return None, vault  # --help, --version before a command: answered here
        index += 1
    return command, vault


def _platform_dir(kind: str) -> str:
    """KNOXTUI_HOME/<kind>, else the platform folder as knoxtui.paths finds it (platformdirs'
    XDG rules on Linux, written out here; elsewhere knoxtui.paths itself)."""
    home = os.environ.get("KNOXTUI_HOME")
    if home:
        return os.path.join(os.path.expanduser(home), kind)
    if sys.platform.startswith("linux"):
        variable, default = {
            "state": ("XDG_STATE_HOME", "~/.local/state"),
            "data": ("XDG_DATA_HOME", "~/.local/share"),
        }[kind]
        base = os.environ.get(variable, "").strip() or os.path.expanduser(default)
        return os.path.join(base, "knoxtui")
    from knoxtui import paths

    return str(paths.state_dir() if kind == "state" else paths.data_dir())


def vault_id(given: str | None) -> str:
    """The vault's resolved path, as knoxtui.agent.location.vault_id names it."""
    if given is None:
        given = os.environ.get("KNOXTUI_VAULT") or os.path.join(_platform_dir("data"), "vault.knox")
    return os.path.realpath(os.path.expanduser(given))


def socket_path(vault: str) -> str:
    """Where this vault's agent listens, as knoxtui.agent.location.socket_path says."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python 3.12+: _sha2; else hashlib
        try:
            from _sha2 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:
            from hashlib import sha256  # type: ignore[assignment,unused-ignore]
    digest = sha256(vault.encode("utf-8", "surrogateescape")).hexdigest()
    return os.path.join(_platform_dir("state"), "agent", f"{digest[:24]}.sock")


def _ours(path: str, directory: bool, mode: int) -> bool:
    import _stat

    try:
        info = os.lstat(path)
    except OSError:
        return False
    kind = _stat.S_ISDIR(info.st_mode) if directory else _stat.S_ISSOCK(info.st_mode)
    return bool(kind) and info.st_uid == os.getuid() and not (info.st_mode & 0o777 & ~mode)


def connect(path: str) -> object | None:
    """A connection to the agent at `path` when the folder, the socket and the listening process
    are this user's; None otherwise (the in-process run then says why, through the client)."""
    import _socket
    import _struct

    if not hasattr(_socket, "SO_PEERCRED"):
        return None
    folder = os.path.dirname(path)
    if not (_ours(folder, True, 0o700) and _ours(path, False, 0o600)):
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(3.0)
        if len(path.encode("utf-8", "surrogateescape")) <= MAX_SOCKET_PATH:
            sock.connect(path)
        else:  # too long for a socket address: through the folder's descriptor
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                sock.connect(f"/proc/self/fd/{fd}/{os.path.basename(path)}")
            finally:
                os.close(fd)
        raw = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
        if _struct.unpack("3i", raw)[1] != os.getuid():
            sock.close()
            return None
    except OSError:
        sock.close()
        return None
    return sock


def _local(argv: list[str]) -> int:
    from knoxtui.cli import main as cli_main

    return cli_main(argv)


def main(argv: list[str] | None = None, local: object = _local) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    code = run_warm(words)
    if code is None:
        assert callable(local)
        return int(local(words))
    return code


def run_warm(argv: list[str]) -> int | None:
    """The command's exit code from the agent's warm worker; None to run it in this process."""
    if os.environ.get("KNOXTUI_NO_WARM"):
        return None
    command, given = command_and_vault(argv)
    if command is None or command in LOCAL_COMMANDS:
        return None
    try:
        vault = vault_id(given)
        sock = connect(socket_path(vault))
    except (OSError, ValueError):
        return None
    if sock is None:
        return None
    try:
        return _exchange(sock, argv, vault)
    finally:
        sock.close()  # type: ignore[attr-defined]


def _request(argv: list[str], vault: str) -> bytes:
    import _struct
    import marshal

    umask = os.umask(0o077)
    os.umask(umask)
    streams = [
        [getattr(s, "encoding", None) or "utf-8", getattr(s, "errors", None) or "strict"]
        for s in (sys.stdin, sys.stdout, sys.stderr)
    ]
    request = {
        "argv": argv,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": umask,
        "streams": streams,
    }
    body = marshal.dumps(request)
    name = vault.encode("utf-8", "surrogateescape")
    return MAGIC + _struct.pack("!I", len(name)) + name + _struct.pack("!I", len(body)) + body


def _exchange(sock: object, argv: list[str], vault: str) -> int | None:
    import _signal  # type: ignore[import-not-found]  # signal would import enum
    import _socket
    import _struct

    assert isinstance(sock, _socket.socket)
    try:
        request = _request(argv, vault)
    except (OSError, ValueError):
        return None  # a cwd that is gone, a value marshal cannot carry: run here
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        fds = _struct.pack("3i", 0, 1, 2)
        sent = sock.sendmsg([request], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
        if sent < len(request):
            sock.sendall(request[sent:])
    except OSError:
        return None
    sock.settimeout(None)

    forwarded: list[int] = []

    def forward(signum: int, frame: object) -> None:
        forwarded.append(signum)
        word = {_signal.SIGINT: b"INT\n", _signal.SIGHUP: b"HUP\n"}.get(signum, b"TERM\n")
        try:  # noqa: SIM105 - contextlib is one more import
            sock.sendall(word)
        except OSError:
            pass

    previous = {}
    for signum in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP):
        try:  # noqa: SIM105 - contextlib is one more import
            previous[signum] = _signal.signal(signum, forward)
        except (OSError, ValueError):
            pass
    data = b""
    try:
        while len(data) <= MAX_REPLY:
            try:
                chunk = sock.recv(MAX_REPLY)
            except InterruptedError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                break
            data += chunk
            if data.endswith(b"\n"):
                last = data[:-1].rsplit(b"\n", 1)[-1]
                if last.startswith(b"EXIT ") or last in (b"LOCAL", b"REFUSED"):
                    break
    finally:
        for signum, handler in previous.items():
            _signal.signal(signum, handler)
    return _outcome(data, forwarded[-1] if forwarded else None)


def _outcome(data: bytes, signum: int | None = None) -> int | None:
    """What the agent and its child said: START pid, then EXIT n (done) or LOCAL (run here);
    REFUSED or nothing before START: run here; START and then nothing: it was stopped (by the
    signal we passed on: 128 + its number, as a shell says; else by its agent locking)."""
    lines = data.splitlines()
    if not lines or lines[0] == b"REFUSED" or not lines[0].startswith(b"START "):
        return None
    for line in lines[1:]:
        if line == b"LOCAL":
            return None
        if line.startswith(b"EXIT "):
            try:
                return int(line[5:])
            except ValueError:
                break
    if signum is not None:
        return 128 + signum
    sys.stderr.write(
        "knoxtui: the command was stopped: its agent locked (or was stopped) while it ran.\n"
    )
    return EXIT_LOST


if __name__ == "__main__":
    raise SystemExit(main())
