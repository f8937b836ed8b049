"""The decrypted key never touches the disk, and no secret reaches a repr or the JSON output."""

from __future__ import annotations

import json
import os
import ssl
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from net_helpers import Pki, pyopenssl_server, resolver

from knoxtui.net import build_context, clear_cache, execute, load_identity
from knoxtui.net import context as tls_context
from knoxtui.routes import Route, plan_request, run_route


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def _new_files_with_key_material(
    roots: list[Path], since: float, markers: list[bytes]
) -> list[Path]:
    found = []
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                try:
                    if path.stat().st_mtime < since or path.stat().st_size > 1 << 20:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(marker in data for marker in markers):
                    found.append(path)
    return found


@pytest.fixture
def spy_load_cert_chain(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what load_cert_chain was given (then call the real one)."""
    calls: list[dict[str, Any]] = []
    real = ssl.SSLContext.load_cert_chain

    def spy(
        self: ssl.SSLContext, certfile: str, keyfile: str | None = None, password: Any = None
    ) -> None:
        record: dict[str, Any] = {"certfile": certfile, "keyfile": keyfile, "password": password}
        for role in ("certfile", "keyfile"):
            path = record[role]
            if path and path.startswith("/proc/self/fd/"):
                record[role + "_target"] = os.readlink(path)
            elif path:
                record[role + "_mode"] = os.stat(path).st_mode & 0o777
                record[role + "_data"] = Path(path).read_bytes()
        calls.append(record)
        real(self, certfile, keyfile, password)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    clear_cache()
    yield calls
    clear_cache()


def test_key_goes_through_an_anonymous_memory_file(
    pki: Pki, tmp_path: Path, isolated_home: Path, spy_load_cert_chain: list[dict[str, Any]]
) -> None:
    vals = {"cert": pki.value(pki.client, "kp"), "ca": pki.server_ca.cert_pem.decode()}
    since = time.time() - 1
    with pyopenssl_server(pki) as server:
        route = Route.from_config(
            "bank",
            {
                "target_url": server.url,
                "certificate_secret_id": "cert",
                "ca_bundle_secret_id": "ca",
            },
        )
        result = run_route(route, "default", resolver(vals), timeout=5)
    assert result.diagnosis.code == "ok"
    (call,) = spy_load_cert_chain
    assert call["keyfile_target"].startswith("/memfd:knoxtui-key")
    assert call["certfile_target"].startswith("/memfd:knoxtui-chain")
    assert not Path(call["keyfile"]).exists()  # the descriptor is closed once loaded
    roots = [Path(tempfile.gettempdir()), isolated_home, Path.cwd()]
    # This key's base64 lines, in any file written since the request began.
    plain = pki.client.key_pem().splitlines()[1:-1]
    assert _new_files_with_key_material(roots, since, plain) == []


def test_fallback_file_holds_only_a_reencrypted_key_and_is_deleted(
    pki: Pki, spy_load_cert_chain: list[dict[str, Any]]
) -> None:
    identity = load_identity(pki.client.chain_pem, pki.client.key_pem(), None)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=pki.server_ca.cert_pem.decode())
    tls_context._load_via_onetime_file(context, identity)
    (call,) = spy_load_cert_chain
    assert call["keyfile_mode"] == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in call["keyfile_data"]
    assert identity.key_pem not in call["keyfile_data"]
    assert not Path(call["keyfile"]).exists()
    # The context so built does authenticate: a real handshake with it succeeds.
    with pyopenssl_server(pki) as server:
        import socket

        with (
            socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="api.bank.test") as tls,
        ):
            tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert tls.recv(12).startswith(b"HTTP/1.1 200")


def test_contexts_are_cached_by_content(
    pki: Pki, spy_load_cert_chain: list[dict[str, Any]]
) -> None:
    identity = load_identity(pki.client.chain_pem, pki.client.key_pem(), None)
    again = load_identity(pki.client.chain_pem, pki.client.key_pem(), None)
    first = build_context(identity=identity, ca_bundle_pem=pki.server_ca.cert_pem)
    assert build_context(identity=again, ca_bundle_pem=pki.server_ca.cert_pem) is first
    assert (
        build_context(identity=identity, ca_bundle_pem=pki.server_ca.cert_pem, max_version="1.2")
        is not first
    )
    assert len(spy_load_cert_chain) == 2


def test_no_secret_in_reprs_or_json(pki: Pki) -> None:
    vals = {
        "cert": pki.value(pki.client, "key-passphrase-123"),
        "ca": pki.server_ca.cert_pem.decode(),
        "api-key": "APIKEY-7f3a9c",
        "oauth": {
            "token_url": "https://127.0.0.1:1/t",
            "client_id": "c",
            "client_secret": "CLIENTSECRET-99",
        },
    }
    route = Route.from_config(
        "bank",
        {
            "target_url": "https://127.0.0.1:1/{{secret:api-key}}",
            "headers": {"X-Api-Key": "{{secret:api-key}}"},
            "body": "k={{secret:api-key}}",
            "certificate_secret_id": "cert",
            "ca_bundle_secret_id": "ca",
            "oauth2_secret_id": "oauth",
        },
    )
    plan = plan_request(route, "default", resolver(vals), timeout=1)
    result = execute(plan)  # the token endpoint refuses the connection: a result, no exception
    assert result.diagnosis.code == "oauth2_token_failed"
    texts = [
        repr(plan),
        repr(plan.identity),
        repr(plan.oauth2),
        repr(plan.headers),
        repr(result),
        json.dumps(result.to_dict()),
    ]
    for text in texts:
        for secret in ("APIKEY-7f3a9c", "CLIENTSECRET-99", "key-passphrase-123", "PRIVATE KEY"):
            assert secret not in text, (secret, text[:200])
