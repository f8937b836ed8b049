"""Real agent processes for the tests: the command line in a subprocess, with the vault's key
derivation lowered in that process only (the product keeps SQLCipher's default)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KDF = 64
PASSPHRASE = "agent test passphrase"
PRELUDE = (
    "import sys\n"
    "from knoxtui.vault import connection\n"
    "connection.DEFAULT_KDF_ITER = int(sys.argv.pop(1))\n"
    "from knoxtui.cli import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


@dataclass
class Session:
    """A KNOXTUI_HOME, a TMPDIR and a vault; every agent it starts is killed at the end."""

    root: Path
    vault: Path
    passphrase: str = PASSPHRASE
    pids: list[int] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def env(self, passphrase: str | None = None, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("KNOXTUI_") and k not in ("TMPDIR",)
        }
        env.update(KNOXTUI_HOME=str(self.home), TMPDIR=str(self.tmp), KNOXTUI_VAULT=str(self.vault))
        if passphrase is not None:
            env["KNOXTUI_VAULT_PASSPHRASE"] = passphrase
        env.update(extra)
        return env

    def run(
        self, *args: str, passphrase: str | None = None, vault: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = self.env(passphrase)
        if vault is not None:
            env["KNOXTUI_VAULT"] = str(vault)
        return subprocess.run(
            [sys.executable, "-c", PRELUDE, str(KDF), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(
        self, *extra: str, vault: Path | None = None, passphrase: str | None = None
    ) -> dict[str, Any]:
        done = self.run(
            "agent",
            "start",
            "--json",
            *extra,
            passphrase=passphrase or self.passphrase,
            vault=vault,
        )
        assert done.returncode == 0, done.stderr
        status = json.loads(done.stdout)
        self.pids.append(int(status["pid"]))
        return status

    def status(self, vault: Path | None = None) -> dict[str, Any]:
        done = self.run("agent", "status", "--json", vault=vault)
        return dict(json.loads(done.stdout))

    def wait_gone(self, pid: int, seconds: float = 15.0) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not alive(pid):
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive: the agent's parent exited, so init reaps it soon.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def make_vault(path: Path, passphrase: str = PASSPHRASE) -> Path:
    from knoxtui.vault import Vault

    with Vault.create(path, passphrase, kdf_iter=KDF) as vault:
        vault.add_string("api-token", "token value that must stay secret")
        vault.save_route("orders", {"target_url": "https://127.0.0.1:9/orders", "method": "GET"})
    return path


def raw_key(path: Path, passphrase: str = PASSPHRASE) -> bytes:
    salt = path.read_bytes()[:16]
    return hashlib.pbkdf2_hmac("sha512", passphrase.encode(), salt, KDF, dklen=32)


def files_containing(folders: list[Path], needles: list[bytes], since: float) -> list[Path]:
    """Every readable regular file under `folders` (changed since `since`) holding a needle."""
    found = []
    for folder in folders:
        if not folder.exists():
            continue
        for dirpath, _, names in os.walk(folder):
            for name in names:
                path = Path(dirpath) / name
                try:
                    info = path.lstat()
                    if not path.is_file() or path.is_symlink() or info.st_size > 50_000_000:
                        continue
                    if info.st_mtime < since and info.st_ctime < since:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(needle in data for needle in needles):
                    found.append(path)
    return found


def session_for(root: Path) -> Iterator[Session]:
    for folder in ("home", "tmp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    session = Session(root, make_vault(root / "data" / "vault.knox"))
    try:
        yield session
    finally:
        session.close()
