"""The agent's warm worker, with real processes: the thin `knoxtui` entry hands its command line
and stdin/stdout/stderr to the agent, whose forked child runs it; the result is the same as the
command run in-process, the agent counts it, signals reach the child, and a locked agent means
the commands run in-process again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_helpers import KDF, PASSPHRASE, Session, alive

from knoxtui.agent import location

# The thin entry as the console script runs it; its in-process fallback lowers the test vault's
# key derivation like the other agent tests (the product keeps SQLCipher's default).
WARM = (
    "import sys\n"
    "kdf = int(sys.argv.pop(1))\n"
    "from knoxtui.agent import warm\n"
    "def local(argv):\n"
    "    from knoxtui.vault import connection\n"
    "    connection.DEFAULT_KDF_ITER = kdf\n"
    "    from knoxtui.cli import main\n"
    "    return main(list(argv))\n"
    "raise SystemExit(warm.main(sys.argv[1:], local=local))\n"
)


def warm(
    session: Session,
    *args: str,
    stdin: str | None = None,
    cold: bool = False,
    **extra: str,
) -> subprocess.CompletedProcess[str]:
    env = session.env(**extra)
    if cold:
        env["KNOXTUI_NO_WARM"] = "1"
    return subprocess.run(
        [sys.executable, "-c", WARM, str(KDF), *args],
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=session.root,
    )


def served(session: Session) -> int:
    return int(session.status()["warm_runs"])


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["secret", "list", "--json"], 0),
        (["route", "list"], 0),
        (["secret", "show", "no-such-secret"], 1),
        (["secret", "lst"], 2),
        (["--help"], 0),
    ],
)
def test_warm_runs_answer_like_in_process_runs(
    session: Session, args: list[str], code: int
) -> None:
    session.start()
    cold = warm(session, *args, cold=True)
    before = served(session)
    hot = warm(session, *args)
    assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert hot.returncode == code
    # --help before any command is answered in-process (nothing to gain from the agent).
    assert served(session) == before + (0 if args == ["--help"] else 1)


def test_check_exit_one_is_the_same_warm(session: Session) -> None:
    """`check` fails (exit 1) on an expired certificate, warm as in-process."""
    from datetime import UTC, datetime, timedelta

    from knoxtui.lab import Authority
    from knoxtui.pki import load_bundle
    from knoxtui.vault import Vault

    now = datetime.now(UTC)
    issued = Authority("Warm Test CA").issue(
        "expired", client=True, not_before=now - timedelta(days=30), not_after=now - timedelta(1)
    )
    with Vault.open(session.vault, PASSPHRASE, kdf_iter=KDF) as vault:
        bundle = load_bundle(issued.chain_pem, key_data=issued.key_pem())
        vault.add_certificate("old-cert", bundle, allow_expired=True)
    session.start()
    cold = warm(session, "check", cold=True)
    hot = warm(session, "check")
    assert cold.returncode == 1, cold.stderr
    assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert served(session) == 1


def test_stdin_is_the_clients(session: Session) -> None:
    """A key passphrase piped on stdin (`--key-passphrase-file -`) reaches the warm child."""
    from knoxtui.lab import Authority

    issued = Authority("Warm Stdin CA").issue("piped", client=True)
    cert, key = session.root / "cert.pem", session.root / "key.pem"
    cert.write_bytes(issued.cert_pem)
    key.write_bytes(issued.key_pem(b"key pass"))
    session.start()
    args = ["inspect", str(cert), "--key", str(key), "--key-passphrase-file", "-", "--json"]
    cold = warm(session, *args, stdin="key pass\n", cold=True)
    hot = warm(session, *args, stdin="key pass\n")
    assert cold.returncode == 0, cold.stderr
    assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    wrong = warm(session, *args, stdin="not it\n")
    assert wrong.stdout != hot.stdout  # the line really came from this stdin
    assert served(session) == 2
    # A vault passphrase read from stdin works too (read; the agent's key opens the vault).
    done = warm(session, "--vault-passphrase-file", "-", "secret", "list", stdin=PASSPHRASE + "\n")
    assert done.returncode == 0, done.stderr
    assert served(session) == 3


def test_cwd_and_umask_are_the_clients(session: Session) -> None:
    session.start()
    done = warm(session, "--vault", "data/vault.knox", "secret", "list", "--json")
    assert done.returncode == 0, done.stderr  # a relative path, from the client's folder
    assert served(session) == 1


@pytest.fixture
def lab(session: Session, tmp_path: Path) -> Iterator[Any]:
    from knoxtui.lab import LabServer
    from knoxtui.pki import load_bundle
    from knoxtui.vault import Vault

    with LabServer(tmp_path / "lab", behaviour="ok") as server:
        files = server.files
        with Vault.open(session.vault, PASSPHRASE, kdf_iter=KDF) as vault:
            bundle = load_bundle(
                files.client_cert.read_bytes(), key_data=files.client_key.read_bytes()
            )
            vault.add_certificate("lab-cert", bundle)
            vault.add_string("lab-ca", files.ca_bundle.read_text())
            vault.save_route(
                "lab",
                {
                    "target_url": server.url + "/accounts",
                    "certificate_secret_id": "lab-cert",
                    "ca_bundle_secret_id": "lab-ca",
                },
            )
        yield server


def _stable(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result.get(k) for k in ("ok", "status_code", "route", "error")}


def test_test_against_a_tls_server_warm(session: Session, lab: Any) -> None:
    session.start()
    cold = warm(session, "test", "lab", "--json", cold=True)
    hot = warm(session, "test", "lab", "--json")
    assert cold.returncode == 0, cold.stderr
    assert hot.returncode == 0, hot.stderr
    assert _stable(json.loads(hot.stdout)) == _stable(json.loads(cold.stdout))
    assert served(session) == 1


def test_the_proxy_comes_from_the_clients_environment(
    session: Session, lab: Any, tmp_path: Path
) -> None:
    """The agent was started without a proxy; the command's own HTTPS_PROXY is used."""
    from tests.net.proxies import tinyproxy

    session.start()
    with tinyproxy(tmp_path) as proxy:
        hot = warm(session, "test", "lab", "--json", HTTPS_PROXY=f"http://127.0.0.1:{proxy.port}")
        assert hot.returncode == 0, hot.stderr
        assert served(session) == 1
        assert proxy.connects(), proxy.log()
        result = json.loads(hot.stdout)
        assert "127.0.0.1" in json.dumps(result.get("proxy")), result


def test_sigint_ends_the_child(session: Session) -> None:
    """Ctrl+C in the client (SIGINT) reaches the child: the command ends with 130, at once."""
    from tests.net.proxies import SilentListener

    with SilentListener() as silent:
        from knoxtui.vault import Vault

        with Vault.open(session.vault, PASSPHRASE, kdf_iter=KDF) as vault:
            vault.save_route("hang", {"target_url": silent.url.replace("http", "https")})
        session.start()
        proc = subprocess.Popen(
            [sys.executable, "-c", WARM, str(KDF), "test", "hang", "--json"],
            env=session.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while silent.accepted == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert silent.accepted == 1
            child = session.status()
            assert child["warm_running"] == 1
            proc.send_signal(signal.SIGINT)
            _out, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert session.status()["warm_running"] == 0 or _settles(session)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_the_child_ends_with_its_client(session: Session, how: str) -> None:
    """SIGTERM is passed on (exit 143, as in-process); a client killed outright leaves no
    child running either (it sees its connection close)."""
    from tests.net.proxies import SilentListener

    with SilentListener() as silent:
        from knoxtui.vault import Vault

        with Vault.open(session.vault, PASSPHRASE, kdf_iter=KDF) as vault:
            vault.save_route("hang", {"target_url": silent.url.replace("http", "https")})
        session.start()
        proc = subprocess.Popen(
            [sys.executable, "-c", WARM, str(KDF), "test", "hang"],
            env=session.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while silent.accepted == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert session.status()["warm_running"] == 1
            proc.send_signal(getattr(signal, how))
            _out, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
        assert _settles(session), "the child outlived its client"
    if how == "SIGTERM":
        assert proc.returncode == 143, err
        assert "agent locked" not in err


def _settles(session: Session) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if session.status()["warm_running"] == 0:
            return True
        time.sleep(0.1)
    return False


def test_lock_stops_warm_runs_and_commands_fall_back(session: Session) -> None:
    from tests.net.proxies import SilentListener

    with SilentListener() as silent:
        from knoxtui.vault import Vault

        with Vault.open(session.vault, PASSPHRASE, kdf_iter=KDF) as vault:
            vault.save_route("hang", {"target_url": silent.url.replace("http", "https")})
        pid = session.start()["pid"]
        proc = subprocess.Popen(
            [sys.executable, "-c", WARM, str(KDF), "test", "hang"],
            env=session.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while silent.accepted == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert warm(session, "lock").returncode == 0
            _out, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
    assert proc.returncode == 1 and "agent locked" in err
    assert session.wait_gone(pid)
    # Locked: the command runs in-process and asks for the passphrase, as without an agent.
    done = warm(session, "secret", "list")
    assert done.returncode == 2 and "passphrase is needed" in done.stderr
    done = warm(session, "secret", "list", "--json", KNOXTUI_VAULT_PASSPHRASE=PASSPHRASE)
    assert done.returncode == 0, done.stderr


def test_local_commands_never_go_to_the_agent(session: Session) -> None:
    session.start()
    assert warm(session, "agent", "status").returncode == 0
    assert warm(session, "lock").returncode == 0
    assert not location.socket_path(session.vault).exists() or not alive(session.pids[-1])


def test_the_child_holds_no_key_and_the_agent_keeps_its_own(session: Session) -> None:
    """The child unmaps the agent's key page instead of zeroing it (the anonymous page is
    shared): after many warm runs the agent still hands out a key that opens the vault."""
    session.start()
    for _ in range(3):
        assert warm(session, "secret", "list").returncode == 0
    assert session.run("secret", "list").returncode == 0  # the plain path: the agent's key
    assert served(session) == 3


NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"
# Another user's listener: it writes down what each connection sent it (and any descriptors).
RECORDER = """
import array, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.bind(sys.argv[1])
sock.listen(4)
print("ready", flush=True)
while True:
    conn, _ = sock.accept()
    try:
        data, fds, _f, _a = socket.recv_fds(conn, 65536, 3)
    except OSError:
        data, fds = b"", []
    print(repr((len(data), len(fds))), flush=True)
    conn.close()
"""


@pytest.mark.skipif(
    os.getuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK), reason="needs root and python3"
)
def test_a_foreign_agent_is_never_handed_our_descriptors(session: Session) -> None:
    """Another uid's process listening at our agent's address (the socket made to look like
    ours): the thin client checks the peer's uid before sending anything, sends nothing, and the
    command runs in-process with the passphrase."""
    import shutil
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="knoxtui-fake-warm-", dir="/tmp"))
    folder = scratch / "nobody"
    scratch.chmod(0o711)
    folder.mkdir(mode=0o700)
    os.chown(folder, NOBODY, NOBODY)
    fake = folder / "fake.sock"
    proc = subprocess.Popen(
        [SYSTEM_PYTHON, "-c", RECORDER, str(fake)],
        user=NOBODY,
        group=NOBODY,
        stdout=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        target = location.socket_path(session.vault)
        target.parent.mkdir(parents=True, mode=0o700)
        target.parent.parent.chmod(0o700)
        os.rename(fake, target)
        os.chown(target, 0, 0)
        os.chmod(target, 0o600)
        done = warm(session, "secret", "list", "--json", KNOXTUI_VAULT_PASSPHRASE=PASSPHRASE)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)[0]["name"] == "api-token"
        proc.kill()
        received = proc.communicate(timeout=10)[0].splitlines()
        assert received and all(line == "(0, 0)" for line in received), received
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.parametrize("home", [True, False])
@pytest.mark.parametrize("xdg", [True, False])
def test_the_thin_client_finds_the_same_socket_as_the_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: bool, xdg: bool
) -> None:
    """The entry names the vault and its socket without pathlib or platformdirs: it must agree
    with knoxtui.agent.location (relative paths, '..', symlinks, '~', the default vault)."""
    from knoxtui import paths
    from knoxtui.agent import warm as thin

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    if home:
        monkeypatch.setenv("KNOXTUI_HOME", str(tmp_path / "kh"))
    else:
        monkeypatch.delenv("KNOXTUI_HOME", raising=False)
    for name in ("XDG_STATE_HOME", "XDG_DATA_HOME"):
        if xdg:
            monkeypatch.setenv(name, str(tmp_path / name.lower()))
        else:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KNOXTUI_VAULT", raising=False)
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    for given in (None, "v.knox", "./a/../v.knox", "link/v.knox", "~/x.knox", str(tmp_path)):
        named = Path(given) if given is not None else paths.default_vault_path()
        expected = location.vault_id(named)
        assert thin.vault_id(given) == expected, given
        assert thin.socket_path(expected) == str(location.socket_path(Path(expected))), given


def test_the_thin_client_trusts_only_private_sockets(session: Session) -> None:
    from knoxtui.agent import warm as thin

    session.start()
    path = location.socket_path(session.vault)
    sock = thin.connect(str(path))
    assert sock is not None
    sock.close()  # type: ignore[attr-defined]
    path.chmod(0o660)
    assert thin.connect(str(path)) is None
    done = warm(session, "secret", "list", KNOXTUI_VAULT_PASSPHRASE=PASSPHRASE)
    assert done.returncode == 0 and "open to others" in done.stderr  # said by the local run
    path.chmod(0o600)
    path.parent.chmod(0o750)
    assert thin.connect(str(path)) is None
    path.parent.chmod(0o700)
    assert served(session) == 0


def test_the_entry_imports_almost_nothing_before_deciding(session: Session) -> None:
    """No json, socket, pathlib, hashlib, argparse (and surely no knoxtui.cli) before the
    command is on its way to the agent."""
    session.start()
    code = (
        "import sys\n"
        "from knoxtui.agent import warm\n"
        "before = set(sys.modules)\n"
        "code = warm.run_warm(['route', 'list'])\n"
        "new = sorted(set(sys.modules) - before)\n"
        "sys.stderr.write(repr((code, new)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=session.env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    code_, new = eval(done.stderr.rsplit("\n", 1)[-1])  # our own repr
    assert code_ == 0
    heavy = {"json", "socket", "pathlib", "hashlib", "argparse", "knoxtui.cli", "enum", "re"}
    assert not heavy & set(new), new


def _memory_holds(pid: int, needles: list[bytes]) -> list[bytes]:
    """The needles found in the readable memory of a process (root, or ptrace allowed)."""
    found: set[bytes] = set()
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if not perms.startswith("r"):
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except (OSError, OverflowError, ValueError):
                continue
            found.update(needle for needle in needles if needle in data)
    return sorted(found)


def test_the_agent_keeps_no_environment_and_no_decrypted_value(session: Session) -> None:
    """A warm run's environment (a passphrase, a proxy password) is read by the child only, and
    what it decrypts (here a private key, exported) dies with it: the agent's memory holds
    neither afterwards."""
    from knoxtui.lab import Authority
    from knoxtui.pki import load_bundle
    from knoxtui.vault import Vault

    issued = Authority("Warm Memory CA").issue("memory", client=True)
    with Vault.open(session.vault, PASSPHRASE, kdf_iter=KDF) as vault:
        vault.add_certificate("mem-cert", load_bundle(issued.chain_pem, key_data=issued.key_pem()))
    pid = session.start()["pid"]
    try:
        _memory_holds(pid, [b"probe"])
    except OSError:
        pytest.skip("cannot read the agent's memory here (needs root or ptrace)")
    marker = "proxy-password-5f1c9e0b2d"
    out = session.root / "out.pem"
    done = warm(
        session, "secret", "export", "mem-cert", "--format", "pem", "--out", str(out),
        "--insecure-plaintext-key",
        HTTPS_PROXY=f"http://user:{marker}@127.0.0.1:9", KNOXTUI_VAULT_PASSPHRASE=marker,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert served(session) == 1
    exported = out.read_text()
    key_part = exported[exported.index("PRIVATE KEY-----") :]
    needles = [line.encode() for line in key_part.splitlines()[1:-1] if len(line) > 40]
    assert needles
    vault = str(session.vault.resolve()).encode()  # the scan works: what the agent read is seen
    assert _memory_holds(pid, [marker.encode(), vault, *needles]) == [vault]


def test_a_prompt_on_a_terminal_runs_the_command_in_process(session: Session) -> None:
    """The warm child has no terminal: a command that would ask on one (a key passphrase, stdin
    a terminal) is handed back, and the client runs it in-process, where the prompt works."""
    import pty
    import select

    from knoxtui.lab import Authority

    issued = Authority("Warm Prompt CA").issue("prompted", client=True)
    cert, key = session.root / "cert.pem", session.root / "key.pem"
    cert.write_bytes(issued.cert_pem)
    key.write_bytes(issued.key_pem(b"key pass"))
    session.start()
    master, slave = pty.openpty()
    env = session.env()
    proc = subprocess.Popen(
        [sys.executable, "-c", WARM, str(KDF), "inspect", str(cert), "--key", str(key), "--json"],
        env=env,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,  # the prompt goes there
        start_new_session=True,  # the pty is not its controlling terminal: getpass uses stdin
    )
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while b"assphrase" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                seen += os.read(master, 1024)
        assert b"assphrase" in seen, seen
        os.write(master, b"key pass\n")
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
        os.close(master)
    assert proc.returncode == 0, seen
    assert json.loads(out)["key_matches"] is True  # the typed passphrase opened the key
    assert served(session) == 1  # offered warm, handed back, run here
