"""Every route configuration of the KnoxCall guide (tests/data/guide_routes/, copied verbatim)
pasted through `knoxtui route add` and run with `knoxtui test` against a local mTLS server that
also plays the OAuth2 token endpoint. The guide's fragments leave target_url out (it lives
elsewhere in KnoxCall's form): `--target-url` gives it, as a user would."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from knoxtui.cli import main
from knoxtui.net.tls_server import ServerResponse
from tests.net.net_helpers import Pki, pyopenssl_server
from tests.net.proxies import needs_tinyproxy, tinyproxy

GUIDE = Path(__file__).resolve().parents[1] / "data" / "guide_routes"
PASSPHRASE = "guide passphrase"
# file -> (environment, expected diagnosis)
EXPECTED = {
    "route_configuration_basic.json": ("production", "ok"),
    "route_configuration_with_oauth2.json": ("production", "ok"),
    "per_environment.json": ("sandbox", "ok"),
    "psd2_truelayer.json": ("default", "ok"),
    "bank_xyz_direct.json": ("default", "ok"),
    "hmrc.json": ("default", "ok"),
    "renewal.json": ("default", "ok"),
    "ca_bundle.json": ("default", "ok"),
    # The guide's SNI name is not in the local server's certificate: named as the fix.
    "sni.json": ("default", "hostname_mismatch"),
    "testing_only_no_verification.json": ("default", "ok"),
}


def test_every_guide_config_is_covered() -> None:
    assert {p.name for p in GUIDE.glob("*.json")} == set(EXPECTED)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from knoxtui.pki import load_bundle
    from knoxtui.vault import OAuth2Config, Vault, connection

    monkeypatch.setattr(connection, "DEFAULT_KDF_ITER", 2)
    pki = Pki()
    tokens: set[str] = set()
    client_secret = secrets.token_urlsafe(16)

    def handler(request: Any) -> ServerResponse:
        if request.path == "/oauth/token":
            if request.peer_certificate is None or (
                client_secret
                not in (request.body.decode() + request.headers.get("authorization", ""))
                and "authorization" not in request.headers
            ):
                return ServerResponse(401, b'{"error": "invalid_client"}')
            token = secrets.token_urlsafe(16)
            tokens.add(token)
            return ServerResponse(
                200, json.dumps({"access_token": token, "expires_in": 60}).encode()
            )
        auth = request.headers.get("authorization", "")
        return ServerResponse(
            200,
            json.dumps(
                {
                    "bearer_ok": auth[7:] in tokens,
                    "headers": {
                        k: v for k, v in request.headers.items() if k.startswith(("api-", "gov-"))
                    },
                    "client": bool(request.peer_certificate),
                }
            ).encode(),
        )

    with pyopenssl_server(pki, handler=handler) as server:
        trust = tmp_path / "system-trust.pem"
        trust.write_bytes(pki.server_ca.cert_pem)
        # The routes without a CA bundle use the system trust: here, the local server's CA.
        monkeypatch.setenv("SSL_CERT_FILE", str(trust))
        vault_path = tmp_path / "vault.db"
        pass_file = tmp_path / "pass.txt"
        pass_file.write_text(PASSPHRASE + "\n")
        bundle = load_bundle(pki.client.chain_pem, key_data=pki.client.key_pem())
        oauth = OAuth2Config(
            token_url=server.url + "/oauth/token", client_id="tpp", client_secret=client_secret
        )
        with Vault.create(vault_path, PASSPHRASE) as vault:
            for env in ("production", "sandbox"):
                vault.add_certificate("bank_api_certificate", bundle, environment=env)
            for name in (
                "truelayer_mtls_cert",
                "bankxyz_client_cert",
                "hmrc_mtls_cert",
                "bank_api_certificate_2025",
                "client_cert",
            ):
                vault.add_certificate(name, bundle)
            for name in ("bank_oauth", "truelayer_oauth", "hmrc_oauth"):
                vault.add_oauth2(name, oauth)
            vault.add_string("bankxyz_api_key", "xyz-api-key-1")
            vault.add_string("hmrc_vendor_key", "vendor-public-key")
            vault.add_string("custom_ca_bundle", pki.server_ca.cert_pem.decode())
        yield server, ["--vault", str(vault_path), "--vault-passphrase-file", str(pass_file)]


def test_each_guide_config_pastes_and_runs(world: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server, args = world
    for file, (env, code) in EXPECTED.items():
        name = file.removesuffix(".json").replace("_", "-")
        config = GUIDE / file
        raw = json.loads(config.read_text())
        if "target_url" in raw:
            # Pasted exactly as written first (its real host is never contacted) ...
            assert main([*args, "route", "add", name + "-as-written", "--config", str(config)]) == 0
        # ... then pointed at the local server, everything else as the guide wrote it.
        assert (
            main(
                [
                    *args,
                    "route",
                    "add",
                    name,
                    "--config",
                    str(config),
                    "--target-url",
                    server.url + "/v1",
                ]
            )
            == 0
        ), file
        capsys.readouterr()
        assert main([*args, "route", "show", name, "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        for key in ("certificate_secret_id", "oauth2_secret_id", "ca_bundle_secret_id"):
            assert shown.get(key) == raw.get(key), (file, key)  # as the user wrote it
        status = main([*args, "test", name, "--env", env, "--json"])
        data = json.loads(capsys.readouterr().out)
        assert (data["diagnosis"]["code"], status) == (code, 0 if code == "ok" else 1), (
            file,
            data["diagnosis"],
        )
        if code != "ok":
            continue
        body = json.loads(data["response"]["body"])
        assert body["client"] and data["client_certificate"]["sent"], file
        if "oauth2_secret_id" in raw:
            assert body["bearer_ok"] and data["oauth2"]["token"], file
        for header, value in raw.get("headers", {}).items():
            assert header.lower() in body["headers"], file
            if "{{" not in value:
                assert body["headers"][header.lower()] == value
        if file == "bank_xyz_direct.json":
            assert body["headers"]["api-key"] == "xyz-api-key-1"  # the secret went to the server
        # The server echoes the headers it got; nothing else of the report holds a value.
        text = json.dumps({k: v for k, v in data.items() if k != "response"})
        assert "xyz-api-key-1" not in text and "vendor-public-key" not in text
    # Environment-specific certificates: a hard failure for an environment the secret lacks.
    assert main([*args, "test", "per-environment", "--env", "staging", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["diagnosis"]["code"] == "environment_missing"
    assert main([*args, "test", "testing-only-no-verification"]) == 0
    assert "TLS verification is OFF" in capsys.readouterr().out


@needs_tinyproxy
def test_cli_proxy_report_json_reproduction_and_no_password_anywhere(
    world: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from knoxtui.vault import Vault

    server, args = world
    password = "Pr0xy-pa55-word"
    vault_path = Path(args[1])
    with Vault.open(vault_path, PASSPHRASE) as vault:
        vault.add_string("proxy_pass", password)
    with tinyproxy(tmp_path, auth=("alice", password)) as tp:
        config = tmp_path / "route.json"
        config.write_text(
            json.dumps(
                {
                    "target_url": server.url + "/v1",
                    "certificate_secret_id": "{{secret:client_cert}}",
                    "proxy": f"http://alice:{{{{secret:proxy_pass}}}}@127.0.0.1:{tp.port}",
                }
            )
        )
        assert main([*args, "route", "add", "via-proxy", "--config", str(config)]) == 0
        capsys.readouterr()
        assert main([*args, "test", "via-proxy", "--json"]) == 0
        out = capsys.readouterr()
        data = json.loads(out.out)
        assert data["proxy"]["url"] == f"http://alice:***@127.0.0.1:{tp.port}"
        assert data["proxy"]["source"] == "route"
        curl = data["reproduce"]["curl"]
        assert f"-x http://127.0.0.1:{tp.port} --proxy-user 'alice:<proxy-password>'" in curl
        # openssl's reproduction authenticates too (without, tinyproxy answers 407)
        s_client = data["reproduce"]["openssl"]
        assert (
            f"-proxy 127.0.0.1:{tp.port} -proxy_user alice -proxy_pass 'pass:<proxy-password>'"
            in (s_client)
        )
        assert main([*args, "test", "via-proxy"]) == 0
        text = capsys.readouterr()
        assert f"Proxy    http://alice:***@127.0.0.1:{tp.port} (route" in text.out
        # --no-proxy goes direct; --proxy with a wrong password fails as proxy_auth_required
        assert main([*args, "test", "via-proxy", "--no-proxy", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["proxy"] is None
        bad = f"http://alice:not-{password}@127.0.0.1:{tp.port}"
        assert main([*args, "test", "via-proxy", "--proxy", bad, "--json"]) == 1
        failed = capsys.readouterr()
        assert json.loads(failed.out)["diagnosis"]["code"] == "proxy_auth_required"
        # two runs, the refused one, and its probe for the scheme (without credentials)
        assert len(tp.connects()) == 4
        proxy_log = tp.log()
    with Vault.open(vault_path, PASSPHRASE) as vault:
        entries = vault.request_entries()
        audit = json.dumps([e.to_dict() for e in vault.audit_entries()], default=str)
    logged = json.dumps([vars(e) for e in entries], default=str)
    assert len(entries) == 4
    for where in (
        out.out,
        out.err,
        text.out,
        text.err,
        failed.out,
        failed.err,
        logged,
        audit,
        proxy_log,
    ):
        assert password not in where
    assert main([*args, "test", "via-proxy", "--proxy", "socks5://x:1"]) == 2
    assert "http://[user[:password]@]host:port" in capsys.readouterr().err


def test_a_literal_proxy_password_is_never_shown(
    world: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, args = world
    config = tmp_path / "route.json"
    config.write_text(
        json.dumps(
            {
                "target_url": server.url,
                "certificate_secret_id": "client_cert",
                "proxy": "http://bob:Literal-Pw-77@127.0.0.1:9",
            }
        )
    )
    assert main([*args, "route", "add", "literal", "--config", str(config), "--json"]) == 0
    added = capsys.readouterr()
    assert "store it as a string secret" in added.err
    for command in (["route", "show", "literal"], ["route", "show", "literal", "--json"]):
        assert main([*args, *command]) == 0
    assert main([*args, "route", "list", "--json"]) == 0
    assert main([*args, "test", "literal", "--json"]) == 1  # nothing listens at the proxy
    out = capsys.readouterr()
    shown = added.out + added.err + out.out + out.err
    assert "Literal-Pw-77" not in shown and "http://bob:***@127.0.0.1:9" in shown
    assert '"code": "proxy_unreachable"' in out.out
