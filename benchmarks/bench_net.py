"""Net: N sequential requests, each on a new connection (full handshake, no session resumption),
to a local mTLS server — nginx where installed, else the lab's pyOpenSSL server — in the same run:

- knoxtui's engine with the full handshake report (`execute(plan)`, and plan + execute);
- bare httpx on a cached SSLContext (the floor the report's overhead is measured against);
- `curl --cert --key`, one process per request, and one curl process for all N URLs.

Goal: the engine with the report at most 0.9x curl's one-process loop per request (the report on
success comes from the same connection; contexts are cached). And `knoxtui test` as a whole process,
vault key derivation included, under 0.5 s.

Through a proxy (Debian's tinyproxy on 127.0.0.1, where installed): the engine through a CONNECT
tunnel, new connection (and new tunnel) each, against curl's one-process loop through the same
proxy (`curl -x`, `Connection: close`). Goal: at most 1.0x.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from benchmarks.harness import row

N = int(os.environ.get("KNOXTUI_BENCH_N", "200"))
ROUNDS = 5
REFERENCE = "curl, one process for all N URLs (reference)"
ENGINE = "knoxtui execute(plan): full handshake report"


def _interleaved(
    cases: list[tuple[str, Callable[[int], object], int]], rounds: int = ROUNDS
) -> dict[str, tuple[float, float]]:
    """Median wall time and client CPU time per request; the cases alternate within each round so
    that load from other processes on this machine hits them alike."""
    for _, fn, count in cases:
        fn(min(count, 5))  # warm-up: imports, context cache, first connections
    wall: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    cpu: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    for _ in range(rounds):
        for label, fn, count in cases:
            before = _cpu()
            start = time.perf_counter()
            fn(count)
            wall[label].append((time.perf_counter() - start) / count)
            cpu[label].append((_cpu() - before) / count)
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in wall}


def _cpu() -> float:
    """CPU seconds of this process plus its finished children (curl), not the server's."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _server(material: dict[str, Any]) -> tuple[str, AbstractContextManager[Any]]:
    from knoxtui.lab.nginx import NginxServer, nginx_path
    from knoxtui.net.tls_server import ServerResponse, TlsServer

    if nginx_path():
        server = NginxServer(
            material["server"].chain_pem, material["server"].key_pem(), material["client_ca_pem"]
        )
        return "nginx", server
    return "lab (pyOpenSSL, Python threads)", TlsServer(
        lambda request: ServerResponse(200, b'{"ok": true}'),
        cert_chain_pem=material["server"].chain_pem,
        key_pem=material["server"].key_pem(),
        trusted_client_cas_pem=(material["client_ca_pem"],),
    )


def main() -> None:
    from knoxtui.lab import Authority
    from knoxtui.net import execute
    from knoxtui.net.context import build_context
    from knoxtui.routes import Route, plan_request

    server_ca, client_ca = Authority("Bench Server CA"), Authority("Bench Client CA")
    server = server_ca.issue("localhost", dns_names=("localhost",), ip_addresses=("127.0.0.1",))
    client = client_ca.issue("bench-client", client=True)
    material = {"server": server, "client_ca_pem": client_ca.cert_pem}
    work = Path(tempfile.mkdtemp(prefix="knoxtui-bench-"))
    try:
        files = {
            "cert": work / "client.pem",
            "key": work / "client.key",
            "ca": work / "ca.pem",
        }
        files["cert"].write_bytes(client.chain_pem)
        files["key"].write_bytes(client.key_pem())  # curl needs it on disk: the reference
        files["ca"].write_bytes(server_ca.cert_pem)
        kind, server_cm = _server(material)
        with server_cm as srv:
            url = f"https://127.0.0.1:{srv.port}/bench"
            print(f"  server: {kind} on {url}; N = {N} requests per round, new connection each")
            _run(url, files, client, server_ca, execute, build_context, Route, plan_request, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(
    url: str,
    files: dict[str, Path],
    client: Any,
    server_ca: Any,
    execute: Any,
    build_context: Any,
    route_type: Any,
    plan_request: Any,
    work: Path,
) -> None:
    import httpx

    values = {
        "cert": type(
            "V",
            (),
            {"chain_pem": client.chain_pem, "key_pem": client.key_pem(), "key_passphrase": None},
        )(),
        "ca": server_ca.cert_pem.decode(),
    }
    route = route_type.from_config(
        "bench", {"target_url": url, "certificate_secret_id": "cert", "ca_bundle_secret_id": "ca"}
    )

    def resolve(name: str, env: str) -> Any:
        return values[name]

    plan = plan_request(route, "default", resolve)
    first = execute(plan)
    assert first.diagnosis.code == "ok", first.diagnosis
    assert first.report.acceptable_client_cas and first.report.server_chain

    def engine(count: int) -> None:
        for _ in range(count):
            result = execute(plan)
            if result.status_code != 200:
                raise SystemExit(f"engine request failed: {result.diagnosis}")

    def engine_with_plan(count: int) -> None:
        for _ in range(count):
            execute(plan_request(route, "default", resolve))

    context = build_context(identity=plan.identity, ca_bundle_pem=plan.ca_bundle_pem)

    def bare_httpx(count: int) -> None:
        for _ in range(count):
            with httpx.Client(verify=context, trust_env=False) as http:
                http.get(url).read()

    curl = shutil.which("curl")
    base = [
        curl or "curl",
        "-s",
        "--no-sessionid",
        "--cert",
        str(files["cert"]),
        "--key",
        str(files["key"]),
        "--cacert",
        str(files["ca"]),
        "-H",
        "Connection: close",
    ]

    def curl_processes(count: int) -> None:
        for _ in range(count):
            subprocess.run([*base, "-o", os.devnull, url], check=True)

    def curl_one_process(count: int) -> None:
        urls = [f"{url}?i={i}" for i in range(count)]
        subprocess.run([*base, *urls], check=True, stdout=subprocess.DEVNULL)

    cases: list[tuple[str, Callable[[int], object], int]] = []
    if curl:
        cases += [
            (REFERENCE, curl_one_process, N),
            ("curl, one process per request", curl_processes, max(N // 5, 10)),
        ]
    cases += [
        ("bare httpx, cached context, no report", bare_httpx, N),
        (ENGINE, engine, N),
        ("knoxtui plan_request + execute (key decrypted each time)", engine_with_plan, N),
    ]
    measured = _interleaved(cases)
    _through_proxy(url, plan, execute, base if curl else None, work)
    loop_wall, loop_cpu = measured.get(REFERENCE, (None, None))
    print("  wall time per request (ratio vs the reference):")
    for label, (seconds, _) in measured.items():
        print(row(label, seconds, loop_wall, "goal <= 0.90x" if label == ENGINE else ""))
    print("  client CPU per request (curl's processes vs this process; the server not counted):")
    for label, (_, seconds) in measured.items():
        print(row(label, seconds, loop_cpu))
    if not curl:
        print("  (curl is not installed: no reference)")
    vault_for_cli = (
        vault_for(work, url, files) if importlib.util.find_spec("knoxtui.vault") else None
    )
    if vault_for_cli is None:
        print("  knoxtui test as a process: skipped (no vault)")
        return
    args = [sys.executable, "-m", "knoxtui", *vault_for_cli, "test", "bench", "--json"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    times = []
    for _ in range(5):
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            print(f"  knoxtui test failed: {done.stderr.decode()[-300:]}")
            return
    bare = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - start)
    whole = statistics.median(times)
    print("  whole process (vault opened with the product's key derivation):")
    print(row("python -c pass (interpreter start)", statistics.median(bare)))
    print(
        row(
            "knoxtui test ROUTE --json",
            whole,
            None,
            f"goal < 0.5 s: {'met' if whole < 0.5 else 'NOT met'}",
        )
    )


PROXY_REFERENCE = "curl -x, one process for all N URLs (reference)"
PROXY_ENGINE = "knoxtui execute(plan) through the proxy: full report"


def _through_proxy(url: str, plan: Any, execute: Any, curl: list[str] | None, work: Path) -> None:
    import dataclasses
    import socket

    from knoxtui.net.proxy import ProxySetting

    binary = shutil.which("tinyproxy")
    if binary is None:
        print("  through a proxy: skipped (tinyproxy is not installed)")
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf = work / "tinyproxy.conf"
    conf.write_text(
        f"Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nAllow 127.0.0.1\n"
        "LogLevel Warning\nDisableViaHeader Yes\n"
    )
    proc = subprocess.Popen(
        [binary, "-d", "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        proxy_url = f"http://127.0.0.1:{port}"
        through = dataclasses.replace(plan, proxy=ProxySetting("option", url=proxy_url))
        first = execute(through)
        assert first.diagnosis.code == "ok" and first.proxy is not None, first.diagnosis

        def engine(count: int) -> None:
            for _ in range(count):
                if execute(through).status_code != 200:
                    raise SystemExit("engine request through the proxy failed")

        cases: list[tuple[str, Callable[[int], object], int]] = [(PROXY_ENGINE, engine, N)]
        if curl:

            def curl_loop(count: int) -> None:
                urls = [f"{url}?i={i}" for i in range(count)]
                subprocess.run(
                    [*curl, "-x", proxy_url, *urls], check=True, stdout=subprocess.DEVNULL
                )

            cases.insert(0, (PROXY_REFERENCE, curl_loop, N))
        measured = _interleaved(cases)
        reference, reference_cpu = measured.get(PROXY_REFERENCE, (None, None))
        print(f"  through tinyproxy ({proxy_url}), CONNECT tunnel, new connection each:")
        for label, (seconds, _) in measured.items():
            print(row(label, seconds, reference, "goal <= 1.00x" if label == PROXY_ENGINE else ""))
        print("  client CPU per request through the proxy (curl's process vs this process):")
        for label, (_, seconds) in measured.items():
            print(row(label, seconds, reference_cpu))
    finally:
        proc.terminate()
        proc.wait(timeout=5)


PASSPHRASE = "bench passphrase for knoxtui test"


def vault_for(work: Path, url: str, files: dict[str, Path]) -> list[str]:
    from knoxtui.pki import load_bundle
    from knoxtui.vault import Vault

    path = work / "bench.vault"
    pass_file = work / "pass.txt"
    pass_file.write_text(PASSPHRASE + "\n")
    with Vault.create(path, PASSPHRASE) as vault:
        bundle = load_bundle(files["cert"].read_bytes(), key_data=files["key"].read_bytes())
        vault.add_certificate("bench-cert", bundle)
        vault.add_string("bench-ca", files["ca"].read_text())
        vault.save_route(
            "bench",
            {
                "target_url": url,
                "certificate_secret_id": "bench-cert",
                "ca_bundle_secret_id": "bench-ca",
            },
        )
    return ["--vault", str(path), "--vault-passphrase-file", str(pass_file)]
