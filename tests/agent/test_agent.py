"""The agent as a real background process: commands use its key (no key derivation), it locks on
idle, on `knoxtui lock`, on `passwd`; foreign sockets and other users are refused; a killed agent
leaves only a stale socket; its key is in no file; two vaults, two agents."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from agent_helpers import PASSPHRASE, Session, alive, files_containing, make_vault, raw_key

from knoxtui.agent import client, location

NOBODY = 65534
# Another user cannot run the venv's interpreter (it lives under root's folders); the system one
# is enough for the standard-library children below.
SYSTEM_PYTHON = "/usr/bin/python3"
needs_root = pytest.mark.skipif(
    os.getuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK),
    reason="needs root (to act as another user) and /usr/bin/python3",
)


def test_commands_use_the_agent_and_skip_the_key_derivation(session: Session) -> None:
    started = session.start()
    assert started["keys_served"] == 0
    assert started["vault"] == str(session.vault.resolve())
    # No passphrase anywhere, no terminal: only the agent's key can open the vault.
    for command in (
        ["secret", "list", "--json"],
        ["route", "list", "--json"],
        ["check", "--json"],
        ["audit", "--json"],
    ):
        done = session.run(*command)
        assert done.returncode == 0, (command, done.stderr)
    assert json.loads(session.run("secret", "list", "--json").stdout)[0]["name"] == "api-token"
    assert session.status()["keys_served"] == 5
    # A wrong passphrase in the environment does not matter: it is never needed.
    assert session.run("secret", "list", passphrase="wrong").returncode == 0
    assert session.status()["keys_served"] == 6


def test_without_an_agent_everything_asks_as_before(session: Session) -> None:
    done = session.run("secret", "list", "--json")
    assert done.returncode == 2
    assert "passphrase is needed" in done.stderr
    assert session.run("secret", "list", "--json", passphrase=PASSPHRASE).returncode == 0
    wrong = session.run("secret", "list", passphrase="wrong")
    assert wrong.returncode == 2 and "Wrong vault passphrase" in wrong.stderr
    status = session.run("agent", "status", "--json")
    assert status.returncode == 1 and json.loads(status.stdout)["running"] is False


def test_a_wrong_passphrase_starts_no_agent(session: Session) -> None:
    done = session.run("agent", "start", passphrase="not it")
    assert done.returncode == 2
    assert "Wrong vault passphrase" in done.stderr
    assert not location.socket_path(session.vault).exists()


def test_socket_and_folder_are_private(session: Session) -> None:
    started = session.start()
    if sys.platform.startswith("linux"):
        assert started["core_dumps_disabled"] is True and started["not_dumpable"] is True
    path = location.socket_path(session.vault)
    assert path.is_socket()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert session.start()["started"] is False  # one agent per vault


def test_lock_and_stop_wipe_the_key(session: Session) -> None:
    pid = session.start()["pid"]
    done = session.run("lock")
    assert done.returncode == 0 and "wiped its key" in done.stderr
    assert session.wait_gone(pid)
    assert session.run("secret", "list").returncode == 2  # asks for the passphrase again
    pid = session.start()["pid"]
    assert session.run("agent", "stop").returncode == 0
    assert session.wait_gone(pid)
    assert not location.socket_path(session.vault).exists()


def test_lock_all_locks_every_vault(session: Session) -> None:
    other = make_vault(session.root / "data" / "other.knox")
    first = session.start()["pid"]
    second = session.start(vault=other)["pid"]
    done = session.run("lock", "--all")
    assert "Locked 2 agents" in done.stderr
    assert session.wait_gone(first) and session.wait_gone(second)


def test_idle_lock(session: Session) -> None:
    pid = session.start("--idle-minutes", "0.02")["pid"]  # 1.2 seconds
    assert session.wait_gone(pid), "the agent did not lock itself when idle"
    assert not location.socket_path(session.vault).exists()
    assert session.run("secret", "list").returncode == 2


def test_passwd_locks_the_agent(session: Session) -> None:
    pid = session.start()["pid"]
    new_file = session.root / "new.txt"
    new_file.write_text("a brand new passphrase\n")
    done = session.run("passwd", "--new-passphrase-file", str(new_file), passphrase=PASSPHRASE)
    assert done.returncode == 0, done.stderr
    assert "agent was locked" in done.stderr
    assert session.wait_gone(pid)
    assert session.run("secret", "list", passphrase=PASSPHRASE).returncode == 2
    assert session.run("secret", "list", passphrase="a brand new passphrase").returncode == 0


def test_passwd_needs_the_old_passphrase_even_with_an_agent(session: Session) -> None:
    session.start()
    new_file = session.root / "new.txt"
    new_file.write_text("a brand new passphrase\n")
    done = session.run("passwd", "--new-passphrase-file", str(new_file))
    assert done.returncode == 2 and "passphrase is needed" in done.stderr


def test_a_stale_key_is_never_written_with(session: Session) -> None:
    """The passphrase changed behind the agent's back: its key fails on page 1 (before any
    write), the agent is locked, and the passphrase is asked for."""
    from knoxtui.vault import Vault

    pid = session.start()["pid"]
    with Vault.open(session.vault, PASSPHRASE, kdf_iter=64) as vault:
        vault.change_passphrase("changed elsewhere")
    before = session.vault.read_bytes()
    done = session.run("secret", "list", "--json", passphrase="changed elsewhere")
    assert done.returncode == 0, done.stderr
    assert "no longer opens this vault" in done.stderr
    assert session.vault.read_bytes() == before
    assert session.wait_gone(pid)
    # A write command with a stale agent: the same check first, then the right key writes.
    session.start(passphrase="changed elsewhere")
    with Vault.open(session.vault, "changed elsewhere", kdf_iter=64) as vault:
        vault.change_passphrase("third")
    value = session.root / "value.txt"
    value.write_text("v")
    done = session.run("secret", "add", "extra", "--type", "string", "--value-file", str(value))
    assert done.returncode == 2  # no passphrase to fall back to: nothing written
    with Vault.open(session.vault, "third", kdf_iter=64) as vault:
        assert [s.name for s in vault.list_secrets()] == ["api-token"]


def test_an_agent_whose_socket_is_gone_exits(session: Session) -> None:
    """Nobody can reach it any more (socket deleted, or replaced by another agent's): it wipes
    the key and exits instead of holding it until the idle lock."""
    pid = session.start()["pid"]
    location.socket_path(session.vault).unlink()
    assert session.wait_gone(pid)
    first = session.start()["pid"]
    sock = location.socket_path(session.vault)
    sock.rename(sock.with_name("moved-away.sock"))  # the next start sees no agent and binds anew
    second = session.start()["pid"]
    assert session.wait_gone(first)
    assert alive(second) and session.status()["pid"] == second


def test_sigkill_leaves_a_stale_socket_that_the_next_start_replaces(session: Session) -> None:
    pid = session.start()["pid"]
    os.kill(pid, signal.SIGKILL)
    assert session.wait_gone(pid)
    sock = location.socket_path(session.vault)
    assert [p.name for p in sock.parent.iterdir()] == [sock.name]  # only the socket is left
    status = session.run("agent", "status", "--json")
    assert status.returncode == 1 and json.loads(status.stdout)["stale_socket"] is True
    assert session.run("secret", "list", passphrase=PASSPHRASE).returncode == 0  # as without
    again = session.start()
    assert again["started"] is True and again["pid"] != pid
    assert session.run("secret", "list").returncode == 0
    assert session.status()["keys_served"] == 1


def test_the_key_is_in_no_file(session: Session) -> None:
    since = time.time() - 1
    session.start()
    for command in (["secret", "list"], ["check"], ["audit"], ["agent", "status"]):
        session.run(*command)
    session.run("lock")
    key = raw_key(session.vault)
    needles = [key, key.hex().encode(), key.hex().upper().encode(), PASSPHRASE.encode()]
    folders = [session.home, session.tmp, Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")]
    assert files_containing(folders, needles, since) == []


def test_the_key_is_not_in_the_agents_environment(session: Session) -> None:
    pid = session.start()["pid"]
    environ = Path(f"/proc/{pid}/environ").read_bytes()  # we are the same user (or root)
    key = raw_key(session.vault)
    assert key.hex().encode() not in environ and key not in environ


def test_two_vaults_two_agents_never_mix(session: Session) -> None:
    other = make_vault(session.root / "data" / "other.knox", "the other passphrase")
    first = session.start()
    second = session.start(vault=other, passphrase="the other passphrase")
    assert first["socket"] != second["socket"] and first["pid"] != second["pid"]
    assert session.run("secret", "list", vault=other).returncode == 0
    assert session.status(vault=other)["keys_served"] == 1
    assert session.status()["keys_served"] == 0
    # Asking one vault's agent for the other vault's key gets nothing.
    reply = client.ask(session.vault, {"op": "key", "vault": location.vault_id(other)})
    assert reply is not None and reply["ok"] is False and "key" not in reply
    assert client.fetch_key(session.vault) == bytearray(raw_key(session.vault))
    assert client.fetch_key(other) == bytearray(raw_key(other, "the other passphrase"))


FAKE_AGENT = """
import json, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.bind(sys.argv[1])
sock.listen(4)
print("ready", flush=True)
while True:
    conn, _ = sock.accept()
    conn.recv(4096)
    conn.sendall(json.dumps({"ok": True, "vault": sys.argv[2], "key": "00" * 32}).encode() + b"\\n")
    conn.close()
"""


def _nobody_listener(folder: Path, vault: Path) -> tuple[subprocess.Popen[str], Path]:
    folder.parent.chmod(0o711)
    folder.mkdir(mode=0o700)
    os.chown(folder, NOBODY, NOBODY)
    sock = folder / "fake.sock"
    proc = subprocess.Popen(
        [SYSTEM_PYTHON, "-c", FAKE_AGENT, str(sock), location.vault_id(vault)],
        user=NOBODY,
        group=NOBODY,
        stdout=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc, sock


@needs_root
@pytest.mark.parametrize("owner", ["nobody", "ours"])
def test_a_foreign_socket_is_refused(session: Session, owner: str) -> None:
    """Another user's process at our agent's address: refused by the socket's owner, or (when
    the socket file was made to look like ours) by the listening process's uid."""
    import shutil
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="knoxtui-fake-agent-", dir="/tmp"))
    proc, fake = _nobody_listener(scratch / "nobody", session.vault)
    try:
        target = location.socket_path(session.vault)
        target.parent.mkdir(parents=True, mode=0o700)
        target.parent.parent.chmod(0o700)
        os.rename(fake, target)
        if owner == "ours":
            os.chown(target, 0, 0)
            os.chmod(target, 0o600)
        done = session.run("secret", "list", "--json", passphrase=PASSPHRASE)
        assert done.returncode == 0, done.stderr  # the passphrase opened it, as without agent
        expected = "belongs to uid 65534" if owner == "nobody" else "runs as uid 65534"
        assert expected in done.stderr and "was ignored" in done.stderr
        # Without a passphrase the fake key is not even tried: the command asks, and fails.
        assert session.run("secret", "list").returncode == 2
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(scratch, ignore_errors=True)


NOBODY_CLIENT = """
import json, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(5)
sock.connect(sys.argv[1])
try:
    sock.sendall(json.dumps({"op": "key", "vault": sys.argv[2]}).encode() + b"\\n")
    reply = sock.recv(4096)
except (ConnectionResetError, BrokenPipeError):
    reply = b""
print(json.dumps(reply.decode()))
"""


@needs_root
def test_another_user_gets_nothing_from_the_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even with the socket opened to everyone, the agent answers a process of another uid with
    nothing (SO_PEERCRED), and counts it."""
    import shutil
    import tempfile

    from agent_helpers import session_for

    root = Path(tempfile.mkdtemp(prefix="knoxtui-agent-uid-", dir="/tmp"))
    try:
        for session in session_for(root):
            monkeypatch.setenv("KNOXTUI_HOME", str(session.home))
            session.start()
            sock = location.socket_path(session.vault)
            for folder in (root, session.home, sock.parent.parent, sock.parent):
                folder.chmod(0o755)
            sock.chmod(0o666)
            done = subprocess.run(
                [SYSTEM_PYTHON, "-c", NOBODY_CLIENT, str(sock), location.vault_id(session.vault)],
                user=NOBODY,
                group=NOBODY,
                capture_output=True,
                text=True,
                timeout=30,
                cwd="/",
            )
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout) == ""  # closed without a word
            sock.chmod(0o600)
            sock.parent.chmod(0o700)
            status = session.status()
            assert status["refused_peers"] == 1 and status["keys_served"] == 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_agent_survives_a_silent_client(session: Session) -> None:
    session.start()
    silent = client.connect(session.vault)
    assert silent is not None
    try:
        assert session.run("secret", "list").returncode == 0  # answered after its timeout
    finally:
        silent.close()
    assert alive(session.status()["pid"])


def test_long_state_paths_still_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_helpers import session_for

    for session in session_for(tmp_path / ("d" * 60) / ("e" * 60)):
        monkeypatch.setenv("KNOXTUI_HOME", str(session.home))
        status = session.start()
        assert len(status["socket"]) > location.MAX_SOCKET_PATH
        assert session.run("secret", "list").returncode == 0
        assert client.fetch_key(session.vault) == bytearray(raw_key(session.vault))


def test_no_socket_means_no_agent(tmp_path: Path) -> None:
    assert client.fetch_key(tmp_path / "nothing.knox") is None
    assert client.status(tmp_path / "nothing.knox") is None
