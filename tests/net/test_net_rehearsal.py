"""The rotation rehearsal runs its requests concurrently, at most 8 at a time, with progress: a
server that counts the requests it holds at once proves both bounds (no timing assertion)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from knoxtui.net.tls_server import ServerResponse
from tests.net.net_helpers import Pki, pyopenssl_server
from tests.net.proxies import SilentListener


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from knoxtui.pki import load_bundle
    from knoxtui.vault import Vault, connection

    monkeypatch.setattr(connection, "DEFAULT_KDF_ITER", 2)
    pki = Pki()
    with Vault.create(tmp_path / "v.db", "pass") as opened:
        for name, issued in (
            ("old", pki.client),
            ("new", pki.client_ca.issue("tpp-2", client=True)),
        ):
            opened.add_certificate(name, load_bundle(issued.chain_pem, key_data=issued.key_pem()))
        opened.add_string("ca", pki.server_ca.cert_pem.decode())
        yield pki, opened


def test_rehearsal_runs_eight_at_a_time_with_progress(vault: Any) -> None:
    from knoxtui.lifecycle.rotation import rehearse

    pki, opened = vault
    lock = threading.Lock()
    state = {"active": 0, "most": 0}

    def handler(request: Any) -> ServerResponse:
        with lock:
            state["active"] += 1
            state["most"] = max(state["most"], state["active"])
        time.sleep(0.3)  # hold the request so that overlapping ones are counted
        with lock:
            state["active"] -= 1
        return ServerResponse(200, b"{}")

    with pyopenssl_server(pki, handler=handler) as server:
        for index in range(10):
            opened.save_route(
                f"r{index}",
                {
                    "target_url": server.url,
                    "certificate_secret_id": "old",
                    "ca_bundle_secret_id": "ca",
                },
            )
        seen: list[tuple[int, int]] = []
        result = rehearse(
            opened, "old", "new", "default", progress=lambda d, t: seen.append((d, t))
        )
    assert result.ok and len(result.runs) == 10
    assert 2 <= state["most"] <= 8  # concurrent, and bounded
    assert seen[0] == (0, 20) and seen[-1] == (20, 20) and len(seen) == 21
    logged = [(e.route_name, e.certificate_secret_name) for e in opened.request_entries()]
    assert logged == [(f"r{i}", secret) for i in range(10) for secret in ("old", "new")]


def test_a_hanging_route_costs_only_its_own_timeout(vault: Any) -> None:
    from knoxtui.lifecycle.rotation import rehearse

    pki, opened = vault
    with pyopenssl_server(pki) as server, SilentListener() as silent:
        opened.save_route(
            "hangs",
            {
                "target_url": f"https://127.0.0.1:{silent.port}/",
                "certificate_secret_id": "old",
                "timeout_seconds": 1,
            },
        )
        opened.save_route(
            "fine",
            {"target_url": server.url, "certificate_secret_id": "old", "ca_bundle_secret_id": "ca"},
        )
        result = rehearse(opened, "old", "new", "default", log=False)
    by_route = {pair.route: pair for pair in result.runs}
    assert by_route["hangs"].old.code == by_route["hangs"].new.code == "timeout"
    assert by_route["fine"].old.ok and by_route["fine"].new.ok
    assert silent.accepted == 2  # old and new each tried the hanging server once
