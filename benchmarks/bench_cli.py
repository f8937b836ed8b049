"""CLI: whole `knoxtui` processes as a user's script runs them, with and without the agent, in
the same run as the references they are held to:

- `knoxtui test ROUTE --json` against a local nginx (mTLS, new connection) vs one `curl --cert
  --key` process for the same request (goal with the agent: <= 10x curl);
- `knoxtui secret list --json` over 1,000 certificate secrets (goal with the agent: <= 0.15 s);
- with the agent the `knoxtui` entry hands the command to the agent's warm worker (a child forked
  from a process that has the imports done); "agent, in-process" is the same with
  KNOXTUI_NO_WARM=1 (the key from the agent, the imports paid by the process: before the worker);
- without the agent both pay SQLCipher's real key derivation (256,000 iterations), as before;
  `python -c pass` is the interpreter's own floor.

Each case runs ROUNDS times, interleaved so that load from other processes hits them alike;
medians are printed. The vaults use SQLCipher's default KDF, like a user's.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import row

ROUNDS = int(os.environ.get("KNOXTUI_BENCH_ROUNDS", "9"))
SECRETS = 1_000
PASSPHRASE = "bench cli passphrase"


def _knoxtui() -> list[str]:
    """The installed console script when there is one (what a user runs), else -m."""
    script = Path(sys.executable).with_name("knoxtui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "knoxtui"]


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _timed(cases: dict[str, Callable[[], object]]) -> dict[str, tuple[float, float]]:
    """Median wall time and median CPU time (user + system of the finished child process: what
    the command itself costs, whatever else the machine is doing)."""
    for fn in cases.values():
        fn()  # warm-up: page cache, .pyc files
    wall: dict[str, list[float]] = {label: [] for label in cases}
    cpu: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(ROUNDS):
        for label, fn in cases.items():
            before = _children_cpu()
            start = time.perf_counter()
            fn()
            wall[label].append(time.perf_counter() - start)
            cpu[label].append(_children_cpu() - before)
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in cases}


def _list_vault(work: Path) -> Path:
    from benchmarks.bench_vault import NOW, _certificates
    from knoxtui import clock
    from knoxtui.pki import load_bundle
    from knoxtui.vault import Vault

    pems, key_pem = _certificates(SECRETS)
    path = work / "list.knox"
    with clock.frozen(NOW), Vault.create(path, PASSPHRASE) as vault, vault.batch():
        for index, pem in enumerate(pems):
            bundle = load_bundle(pem, key_data=key_pem, now=NOW, require_key=True)
            vault.add_certificate(f"bank-{index:05d}", bundle)
    return path


def main() -> None:
    from benchmarks.bench_net import _server
    from knoxtui.lab import Authority

    server_ca, client_ca = Authority("Bench Server CA"), Authority("Bench Client CA")
    server = server_ca.issue("localhost", dns_names=("localhost",), ip_addresses=("127.0.0.1",))
    client = client_ca.issue("bench-client", client=True)
    work = Path(tempfile.mkdtemp(prefix="knoxtui-bench-cli-"))
    try:
        files = {"cert": work / "client.pem", "key": work / "client.key", "ca": work / "ca.pem"}
        files["cert"].write_bytes(client.chain_pem)
        files["key"].write_bytes(client.key_pem())  # curl needs it on disk: the reference
        files["ca"].write_bytes(server_ca.cert_pem)
        kind, server_cm = _server({"server": server, "client_ca_pem": client_ca.cert_pem})
        with server_cm as srv:
            url = f"https://127.0.0.1:{srv.port}/bench"
            print(f"  server: {kind} on {url}; {ROUNDS} rounds, medians", flush=True)
            _run(url, files, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(url: str, files: dict[str, Path], work: Path) -> None:
    from benchmarks.bench_net import PASSPHRASE as NET_PASSPHRASE
    from benchmarks.bench_net import vault_for

    print(f"  making a vault of {SECRETS:,} certificate secrets ...", flush=True)
    list_path = _list_vault(work)
    test_args = vault_for(work, url, files)  # --vault V --vault-passphrase-file F
    test_vault = Path(test_args[1])
    home = work / "home"
    home.mkdir(mode=0o700)
    # An installed knoxtui has its .pyc files; the warm-up writes them for a checkout too.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KNOXTUI_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(KNOXTUI_HOME=str(home))
    knox = _knoxtui()
    list_pass = work / "list-pass.txt"
    list_pass.write_text(PASSPHRASE + "\n")

    # The same commands without an agent: a state folder where none listens.
    bare_env = {**env, "KNOXTUI_HOME": str(work / "home-without-agent")}
    cold_env = {**env, "KNOXTUI_NO_WARM": "1"}

    def run(*args: str, agent: bool = True, warm: bool = True) -> Callable[[], None]:
        def once() -> None:
            done = subprocess.run(
                [*knox, *args],
                env=(env if warm else cold_env) if agent else bare_env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
            )
            if done.returncode != 0:
                raise SystemExit(f"knoxtui {' '.join(args)} failed: {done.stderr[-300:]!r}")

        return once

    curl = shutil.which("curl")
    curl_cmd = [
        curl or "curl",
        "-s",
        "--cert",
        str(files["cert"]),
        "--key",
        str(files["key"]),
        "--cacert",
        str(files["ca"]),
        "-o",
        os.devnull,
        url,
    ]

    def curl_once() -> None:
        subprocess.run(curl_cmd, check=True)

    def python_pass() -> None:
        subprocess.run([sys.executable, "-c", "pass"], check=True)

    test_plain = run(*test_args, "test", "bench", "--json", agent=False)
    test_agent = run("--vault", str(test_vault), "test", "bench", "--json")
    list_plain = run("--vault", str(list_path), "--vault-passphrase-file", str(list_pass),
                     "secret", "list", "--json", agent=False)  # fmt: skip
    list_agent = run("--vault", str(list_path), "secret", "list", "--json")
    test_cold = run("--vault", str(test_vault), "test", "bench", "--json", warm=False)
    list_cold = run("--vault", str(list_path), "secret", "list", "--json", warm=False)

    start_env = dict(env)
    for vault, secret in ((test_vault, NET_PASSPHRASE), (list_path, PASSPHRASE)):
        start_env["KNOXTUI_VAULT_PASSPHRASE"] = secret
        subprocess.run(
            [*knox, "--vault", str(vault), "agent", "start"],
            env=start_env,
            stdin=subprocess.DEVNULL,
            check=True,
            capture_output=True,
        )
    try:
        cases: dict[str, Callable[[], object]] = {"python": python_pass}
        if curl:
            cases["curl"] = curl_once
        cases.update(
            {
                "test": test_agent,
                "list": list_agent,
                "test~": test_cold,
                "list~": list_cold,
                "test-": test_plain,
                "list-": list_plain,
            }
        )
        measured = _timed(cases)
        served = subprocess.run(
            [*knox, "--vault", str(test_vault), "agent", "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        for vault in (test_vault, list_path):
            subprocess.run([*knox, "--vault", str(vault), "agent", "stop"], env=env, check=False,
                           capture_output=True)  # fmt: skip
    without = {"test": measured.pop("test-"), "list": measured.pop("list-")}
    cold = {"test": measured.pop("test~"), "list": measured.pop("list~")}
    _report(measured, without, cold, served)


def _report(
    measured: dict[str, tuple[float, float]],
    without: dict[str, tuple[float, float]],
    cold: dict[str, tuple[float, float]],
    served: str,
) -> None:
    import json

    for index, title in ((0, "wall time"), (1, "CPU time, user + system of the process")):
        reference = measured["curl"][index] if "curl" in measured else None
        test, listing = measured["test"][index], measured["list"][index]
        print(f"  whole processes, {title} (median):")
        print(row("python -c pass (interpreter start)", measured["python"][index], reference))
        if reference:
            print(row("curl --cert --key, one request (reference)", reference, reference))
        met = reference is not None and test <= 10 * reference
        # The goals are whole-process wall times (the warm child's CPU is not the client's).
        goal = f"goal <= 10x curl: {'met' if met else 'NOT met'}" if index == 0 else ""
        print(row("knoxtui test ROUTE --json, agent, warm worker", test, reference, goal))
        print(row("knoxtui test ROUTE --json, agent, in-process", cold["test"][index], reference))
        print(
            row("knoxtui test ROUTE --json, without (real KDF)", without["test"][index], reference)
        )
        goal = f"goal <= 0.15 s: {'met' if listing <= 0.15 else 'NOT met'}" if index == 0 else ""
        print(row(f"knoxtui secret list --json ({SECRETS:,}), warm worker", listing, None, goal))
        print(
            row(f"knoxtui secret list --json ({SECRETS:,}), agent, in-process", cold["list"][index])
        )
        print(row(f"knoxtui secret list --json ({SECRETS:,}), without", without["list"][index]))
    print(
        "  (the warm worker's CPU row is the thin client's alone: the child that ran the command "
        "is the agent's; judge it by wall time)"
    )
    data: dict[str, Any] = json.loads(served) if served.strip() else {}
    print(
        f"  the test vault's agent served {data.get('keys_served', '?')} keys (KDFs skipped) "
        f"and ran {data.get('warm_runs', '?')} commands warm"
    )
    if "curl" not in measured:
        print("  (curl is not installed: no reference)")


if __name__ == "__main__":
    main()
