"""Two people (two vaults) sharing through one real OpenBao server: push, pull, status, check-and-
set, pulled material validated like an import, offline, and no token in any output."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from remote_helpers import BaoServer, LocalCA, free_port, key_pem

from knoxtui.pki import load_bundle
from knoxtui.vault import CertificateValue, OAuth2Config, Vault


def _add_remote(knox, server: BaoServer, prefix: str, *extra: str, token: str | None = None):
    token_file = knox.vault.path.parent / "token"
    token_file.write_text((token or server.extra["team_token"]) + "\n")
    code, out, err = knox(
        "remote",
        "add",
        "team",
        "--url",
        server.url,
        "--prefix",
        prefix,
        "--token-file",
        str(token_file),
        *extra,
    )
    assert code == 0, err
    return out + err


def _certificate(vault: Vault, name: str, ca: LocalCA, *, passphrase: str | None = None) -> None:
    cert, key = ca.issue(f"{name}.client.test")
    bundle = load_bundle(cert + ca.pem, key_data=key_pem(key, passphrase), passphrase=passphrase)
    vault.add_certificate(name, bundle, key_passphrase=passphrase, environment="production")


def _status(knox) -> dict[str, dict]:
    code, out, err = knox("remote", "status", "--json")
    assert code == 0, err
    return {item["name"]: item for item in json.loads(out)}


def _upstream(server: BaoServer, prefix: str, kind: str, name: str) -> dict:
    answer = server.call("GET", f"secret/data/{prefix}/{kind}/{name}")
    return answer["data"]


def test_push_then_pull_gives_the_second_person_the_same_items(
    bao: BaoServer, prefix: str, alice: Vault, bob: Vault, knox_a, knox_b
) -> None:
    ca = LocalCA()
    _certificate(alice, "bank_cert", ca, passphrase="key pass 1")
    alice.add_string("bank_ca", ca.pem.decode(), description="the bank's CA")
    alice.add_string("api_key", "sk-live-123", environment="sandbox")
    alice.add_oauth2(
        "bank_oauth",
        OAuth2Config(
            token_url="https://auth.bank.example/token",
            client_id="knox",
            auth_method="tls_client_auth",
            certificate_secret_id="bank_cert",
        ),
    )
    alice.save_route(
        "payments",
        {
            "target_url": "https://api.bank.example/v1",
            "certificate_secret_id": "bank_cert",
            "ca_bundle_secret_id": "bank_ca",
            "headers": {"X-Api-Key": "{{secret:api_key}}"},
        },
    )
    _add_remote(knox_a, bao, prefix)
    before = _status(knox_a)
    assert {i["state"] for i in before.values()} == {"local_only"}

    code, out, err = knox_a("push", "--all")
    assert code == 0, err
    assert "pushed" in out and "payments" in out
    upstream = _upstream(bao, prefix, "secrets", "bank_cert")
    assert upstream["metadata"]["version"] == 1
    document = upstream["data"]
    assert document["knoxtui"] == 1 and document["type"] == "certificate"
    value = document["environments"]["production"]
    assert value["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert value["key_passphrase"] == "key pass 1" and "ENCRYPTED" in value["private_key"]
    route = _upstream(bao, prefix, "routes", "payments")["data"]
    assert route["certificate_secret_id"] == "bank_cert"
    assert {i["state"] for i in _status(knox_a).values()} == {"in_sync"}

    _add_remote(knox_b, bao, prefix)
    seen = _status(knox_b)
    assert seen["payments"] == {
        "name": "payments",
        "kind": "route",
        "state": "upstream_only",
        "local_version": None,
        "upstream_version": 1,
    }
    code, out, err = knox_b("pull", "--all")
    assert code == 0, err
    got = bob.resolve("bank_cert", "production")
    assert isinstance(got, CertificateValue)
    mine = alice.resolve("bank_cert", "production")
    assert isinstance(mine, CertificateValue)
    assert got.chain_pem == mine.chain_pem and got.key_passphrase == "key pass 1"
    assert bob.get_secret("bank_ca").description == "the bank's CA"
    assert bob.resolve("api_key", "sandbox") == "sk-live-123"
    assert bob.resolve("bank_oauth", "default") == alice.resolve("bank_oauth", "default")
    assert bob.get_route("payments").config == alice.get_route("payments").config
    assert {i["state"] for i in _status(knox_b).values()} == {"in_sync"}

    # Alice changes a value and pushes: Bob sees upstream_ahead with both versions.
    alice.add_string("api_key", "sk-live-456", environment="sandbox", replace=True)
    assert _status(knox_a)["api_key"]["state"] == "local_ahead"
    assert knox_a("push", "api_key")[0] == 0
    assert _status(knox_b)["api_key"] == {
        "name": "api_key",
        "kind": "secret",
        "state": "upstream_ahead",
        "local_version": 1,
        "upstream_version": 2,
    }
    code, out, _ = knox_b("pull", "--all")
    assert code == 0 and "api_key" in out and "bank_cert" not in out
    assert bob.resolve("api_key", "sandbox") == "sk-live-456"
    assert _status(knox_b)["api_key"]["state"] == "in_sync"

    # Every push and pull is an audit row naming item, remote and version, never a value.
    rows = [e for e in bob.audit_entries() if e.operation in ("push", "pull")]
    assert any(
        e.operation == "pull" and e.secret_name == "api_key" and "version 2" in (e.detail or "")
        for e in rows
    )
    assert all("team" in (e.detail or "") for e in rows)
    text = json.dumps([e.to_dict() for e in alice.audit_entries() + bob.audit_entries()])
    assert "sk-live" not in text and "key pass 1" not in text and "PRIVATE KEY" not in text


def test_concurrent_change_is_refused_by_check_and_set_with_upstream_intact(
    bao: BaoServer, prefix: str, alice: Vault, bob: Vault, knox_a, knox_b
) -> None:
    alice.add_string("shared_token", "first")
    _add_remote(knox_a, bao, prefix)
    _add_remote(knox_b, bao, prefix)
    assert knox_a("push", "--all")[0] == 0
    assert knox_b("pull", "--all")[0] == 0

    bob.add_string("shared_token", "bob's", replace=True)
    assert knox_b("push", "shared_token")[0] == 0  # version 2 upstream
    alice.add_string("shared_token", "alice's", replace=True)
    assert _status(knox_a)["shared_token"]["state"] == "conflict"

    code, _out, err = knox_a("push", "shared_token")
    assert code == 1
    assert "'shared_token'" in err and "version 2" in err and "nothing was written" in err
    # the way out is real: a pull alone is refused too (conflict), so the hint never says
    # "pull, then push again"; it names --theirs and how to keep one's own change
    assert "then push again" not in err and "--theirs" in err and "--ours" in err
    upstream = _upstream(bao, prefix, "secrets", "shared_token")
    assert upstream["metadata"]["version"] == 2
    assert upstream["data"]["environments"]["default"]["value"] == "bob's"

    code, _, err = knox_a("pull", "shared_token")
    assert code == 1 and "--theirs" in err
    assert "push yours after a pull" not in err and "--ours" in err
    assert alice.resolve("shared_token", "default") == "alice's"
    assert knox_a("pull", "shared_token", "--theirs")[0] == 0
    assert alice.resolve("shared_token", "default") == "bob's"
    assert _status(knox_a)["shared_token"]["state"] == "in_sync"


def _conflict(bao: BaoServer, prefix: str, alice: Vault, bob: Vault, knox_a, knox_b) -> None:
    """shared_token: version 2 upstream is bob's, alice changed hers since version 1."""
    alice.add_string("shared_token", "first")
    _add_remote(knox_a, bao, prefix)
    _add_remote(knox_b, bao, prefix)
    assert knox_a("push", "--all")[0] == 0
    assert knox_b("pull", "--all")[0] == 0
    bob.add_string("shared_token", "bob's", replace=True)
    assert knox_b("push", "shared_token")[0] == 0
    alice.add_string("shared_token", "alice's", replace=True)
    assert _status(knox_a)["shared_token"]["state"] == "conflict"


def test_push_ours_writes_over_the_upstream_and_keeps_theirs_in_history(
    bao: BaoServer, prefix: str, alice: Vault, bob: Vault, knox_a, knox_b
) -> None:
    _conflict(bao, prefix, alice, bob, knox_a, knox_b)
    code, _, err = knox_a("push", "--all", "--ours")
    assert code == 2 and "--ours" in err and "name the items" in err

    code, out, err = knox_a("push", "shared_token", "--ours", "--json")
    assert code == 0, err
    assert json.loads(out) == [
        {
            "name": "shared_token",
            "kind": "secret",
            "action": "pushed",
            "version": 3,
            "message": None,
            "code": None,
        }
    ]
    upstream = _upstream(bao, prefix, "secrets", "shared_token")
    assert upstream["metadata"]["version"] == 3
    assert upstream["data"]["environments"]["default"]["value"] == "alice's"
    # bob's version is still in the KV history
    old = bao.call("GET", f"secret/data/{prefix}/secrets/shared_token?version=2")["data"]
    assert old["data"]["environments"]["default"]["value"] == "bob's"
    assert _status(knox_a)["shared_token"]["state"] == "in_sync"
    rows = [e for e in alice.audit_entries() if "overwrote" in (e.detail or "")]
    assert len(rows) == 1 and "overwrote version 2" in (rows[0].detail or "")
    assert "version 3" in (rows[0].detail or "") and "alice's" not in (rows[0].detail or "")
    # bob now sees upstream ahead and pulls alice's copy
    assert _status(knox_b)["shared_token"]["state"] == "upstream_ahead"
    assert knox_b("pull", "shared_token")[0] == 0
    assert bob.resolve("shared_token", "default") == "alice's"
    # nothing changed since: --ours writes nothing
    code, out, _ = knox_a("push", "shared_token", "--ours")
    assert code == 0 and "unchanged" in out
    assert _upstream(bao, prefix, "secrets", "shared_token")["metadata"]["version"] == 3


def test_push_ours_still_refuses_a_third_write_between_read_and_write(
    bao: BaoServer, prefix: str, alice: Vault, bob: Vault, knox_a, knox_b
) -> None:
    from knoxtui.remote import session, sync

    _conflict(bao, prefix, alice, bob, knox_a, knox_b)
    remote = alice.remotes.get("team")
    path = f"secret/data/{prefix}/secrets/shared_token"
    with session.connect(alice, remote) as client:
        read = client.kv_current_version
        carol: list[int] = []

        def read_then_carol_writes(mount: str, item: str) -> int | None:
            version = read(mount, item)  # the version --ours will use as cas ...
            if not carol:  # ... then a third writer, once
                carol.append(bao.call("POST", path, {"data": {"carol": "x"}})["data"]["version"])
            return version

        client.kv_current_version = read_then_carol_writes  # type: ignore[method-assign]
        outcomes = sync.push(alice, remote, client, ["shared_token"], ours=True)
    assert [o.action for o in outcomes] == ["refused"]
    assert carol == [3] and outcomes[0].code == "cas_mismatch" and outcomes[0].version == 3
    upstream = _upstream(bao, prefix, "secrets", "shared_token")
    assert upstream["metadata"]["version"] == 3 and upstream["data"] == {"carol": "x"}
    assert not [e for e in alice.audit_entries() if "overwrote" in (e.detail or "")]


def test_push_without_a_local_change_writes_nothing(
    bao: BaoServer, prefix: str, alice: Vault, knox_a
) -> None:
    alice.add_string("quiet", "v")
    _add_remote(knox_a, bao, prefix)
    assert knox_a("push", "--all")[0] == 0
    code, out, err = knox_a("push", "--all")
    assert code == 0 and "Nothing to push" in err
    code, out, _ = knox_a("push", "quiet")
    assert code == 0 and "unchanged" in out
    assert _upstream(bao, prefix, "secrets", "quiet")["metadata"]["version"] == 1


def test_bad_items_written_by_hand_are_refused_on_pull_and_the_rest_goes_on(
    bao: BaoServer, prefix: str, bob: Vault, knox_b
) -> None:
    ca = LocalCA()
    cert, key = ca.issue("good.client.test")
    _, other_key = ca.issue("other.client.test")

    def kv_put(path: str, document: dict) -> None:
        source = bob.path.parent / "item.json"
        source.write_text(json.dumps(document))
        bao.bao("kv", "put", "-mount=secret", path, f"@{source}")

    good = {
        "knoxtui": 1,
        "type": "certificate",
        "environments": {
            "default": {"certificate": cert.decode(), "private_key": key_pem(key).decode()}
        },
    }
    kv_put(f"{prefix}/secrets/good_cert", good)
    mismatch = json.loads(json.dumps(good))
    mismatch["environments"]["default"]["private_key"] = key_pem(other_key).decode()
    kv_put(f"{prefix}/secrets/mismatched", mismatch)
    wrong_pass = json.loads(json.dumps(good))
    wrong_pass["environments"]["default"]["private_key"] = key_pem(key, "right").decode()
    wrong_pass["environments"]["default"]["key_passphrase"] = "wrong"
    kv_put(f"{prefix}/secrets/wrong_pass", wrong_pass)
    kv_put(
        f"{prefix}/secrets/strange",
        {"knoxtui": 1, "type": "ssh_key", "environments": {"default": {"value": "x"}}},
    )
    kv_put(
        f"{prefix}/routes/orphan",
        {"target_url": "https://api.example/v1", "certificate_secret_id": "not_there"},
    )
    _add_remote(knox_b, bao, prefix)

    code, out, err = knox_b("pull", "--all")
    assert code == 1
    assert "pulled" in out and "good_cert" in out
    assert "'mismatched'" in err and "does not match" in err
    assert "'wrong_pass'" in err and "passphrase" in err
    assert "'strange'" in err and "ssh_key" in err and "unknown" in err
    assert "'orphan'" in err and "not_there" in err
    assert [s.name for s in bob.list_secrets()] == ["good_cert"]
    assert bob.list_routes() == []
    state = _status(knox_b)
    assert state["good_cert"]["state"] == "in_sync"
    assert state["mismatched"]["state"] == "upstream_only"

    code, out, _ = knox_b("pull", "--all", "--json")
    codes = {o["name"]: o["code"] for o in json.loads(out)}
    assert codes["mismatched"] == "key_mismatch" and codes["wrong_pass"] == "wrong_passphrase"
    assert codes["strange"] == "unknown_type" and codes["orphan"] == "unknown_secret"


def test_offline_status_says_unreachable_and_local_commands_work(
    alice: Vault, knox_a, tmp_path: Path
) -> None:
    alice.add_string("local_thing", "v")
    port = free_port()  # nothing listens there
    token = tmp_path / "token"
    token.write_text("s.nothing\n")
    assert (
        knox_a(
            "remote", "add", "team", "--url", f"http://127.0.0.1:{port}", "--token-file", str(token)
        )[0]
        == 0
    )
    started = time.monotonic()
    code, out, err = knox_a("remote", "status")
    assert code == 2 and "unreachable" in err and out == ""
    code, _, err = knox_a("push", "--all")
    assert code == 2 and "unreachable" in err
    assert time.monotonic() - started < 60  # bounded; the speed itself is measured in benchmarks
    code, out, _ = knox_a("secret", "list", "--json")
    assert code == 0 and "local_thing" in out
    code, out, _ = knox_a("remote", "list", "--json")
    assert code == 0 and json.loads(out)[0]["name"] == "team"


def test_token_never_appears_in_any_output(
    bao: BaoServer, prefix: str, alice: Vault, knox_a, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = bao.extra["team_token"]
    alice.add_string("api_key", "value-never-printed")
    outputs = [_add_remote(knox_a, bao, prefix)]
    for argv in (
        ("remote", "list"),
        ("remote", "list", "--json"),
        ("remote", "status"),
        ("remote", "status", "--json"),
        ("push", "--all", "--json"),
        ("pull", "--all", "--json"),
        ("audit", "--json"),
        ("audit", "--sql", "SELECT * FROM remotes"),
        ("audit", "--sql", "SELECT * FROM remote_credential_blobs"),
    ):
        code, out, err = knox_a(*argv)
        outputs.append(out + err)
    text = "\n".join(outputs)
    assert token not in text and "value-never-printed" not in text
    assert "not readable" in text or "refused" in text  # the credentials table is out of reach
    assert token.encode() not in alice.path.read_bytes()

    # From the environment (as the bao CLI reads them): address and token used, token never stored.
    knox_a("remote", "rm", "team")
    monkeypatch.setenv("BAO_ADDR", bao.url)
    monkeypatch.setenv("VAULT_TOKEN", token)
    code, out, err = knox_a("remote", "add", "env", "--prefix", prefix)
    assert code == 0 and "VAULT_TOKEN" in out and bao.url in out
    code, out, err = knox_a("remote", "status", "--json")
    assert code == 0 and token not in out + err
    assert json.loads(out)[0]["name"] == "api_key"
    assert alice.remotes.credentials("env").token is None


def test_a_rejected_token_is_an_auth_error_naming_no_token(
    bao: BaoServer, prefix: str, alice: Vault, knox_a
) -> None:
    _add_remote(knox_a, bao, prefix, token="s.not-a-real-token")
    code, _, err = knox_a("remote", "status")
    assert code == 2 and "permission denied" in err and "s.not-a-real-token" not in err


def test_approle_login(bao: BaoServer, prefix: str, alice: Vault, knox_a, tmp_path: Path) -> None:
    role_id, secret_id = bao.extra["approle"]
    secret_file = tmp_path / "secret-id"
    secret_file.write_text(secret_id + "\n")
    alice.add_string("by_approle", "v")
    code, _, err = knox_a(
        "remote", "add", "team", "--url", bao.url, "--prefix", prefix, "--auth", "approle",
        "--role-id", role_id, "--secret-id-file", str(secret_file),
    )  # fmt: skip
    assert code == 0, err
    code, out, err = knox_a("push", "--all")
    assert code == 0, err
    assert _upstream(bao, prefix, "secrets", "by_approle")["metadata"]["version"] == 1
    assert secret_id not in out + err

    secret_file.write_text("00000000-0000-0000-0000-000000000000\n")
    code, _, err = knox_a(
        "remote", "add", "team", "--url", bao.url, "--prefix", prefix, "--auth", "approle",
        "--role-id", role_id, "--secret-id-file", str(secret_file), "--replace",
    )  # fmt: skip
    assert code == 0
    code, _, err = knox_a("remote", "status")
    assert code == 2 and "Login" in err and "approle" in err


def test_certificate_login_over_tls(bao_tls: BaoServer, prefix: str, alice: Vault, knox_a) -> None:
    client_ca: LocalCA = bao_tls.extra["client_ca"]
    cert, key = client_ca.issue("knox-ci")
    alice.add_certificate("bao_login", load_bundle(cert + client_ca.pem, key_data=key_pem(key)))
    assert bao_tls.ca_pem is not None
    alice.add_string("bao_ca", bao_tls.ca_pem.decode())
    alice.add_string("over_tls", "v")
    base = ("remote", "add", "tls", "--url", bao_tls.url, "--prefix", prefix, "--auth", "cert")
    code, _, err = knox_a(*base, "--cert-secret", "bao_login")
    assert code == 0, err
    code, _, err = knox_a("remote", "status")
    assert code == 2 and "not trusted" in err  # no CA bundle: the system trust does not know it

    code, _, err = knox_a(
        *base, "--cert-secret", "bao_login", "--ca-bundle-secret", "bao_ca", "--replace"
    )
    assert code == 0, err
    code, _out, err = knox_a("push", "--all")
    assert code == 0, err
    assert _upstream(bao_tls, prefix, "secrets", "over_tls")["metadata"]["version"] == 1
    assert _status(knox_a)["over_tls"]["state"] == "in_sync"

    # A certificate the cert auth method does not trust is refused at login.
    stranger_ca = LocalCA("Stranger CA")
    cert2, key2 = stranger_ca.issue("stranger")
    alice.add_certificate("stranger", load_bundle(cert2 + stranger_ca.pem, key_data=key_pem(key2)))
    code, _, err = knox_a(
        *base, "--cert-secret", "stranger", "--ca-bundle-secret", "bao_ca", "--replace"
    )
    assert code == 0
    code, _, err = knox_a("remote", "status")
    assert code == 2 and "Login" in err


def test_many_certificates_push_and_pull_with_bounded_concurrency(
    bao: BaoServer, prefix: str, alice: Vault, bob: Vault, knox_a, knox_b
) -> None:
    ca = LocalCA()
    cert, key = ca.issue("fleet.client.test")
    bundle = load_bundle(cert + ca.pem, key_data=key_pem(key))
    with alice.batch():
        for index in range(120):
            alice.add_certificate(f"fleet-{index:04d}", bundle)
    _add_remote(knox_a, bao, prefix)
    _add_remote(knox_b, bao, prefix)
    code, out, err = knox_a("push", "--all")
    assert code == 0, err
    assert out.count("pushed") == 120
    code, out, err = knox_b("pull", "--all")
    assert code == 0, err
    assert len(bob.list_secrets()) == 120
    assert {i["state"] for i in _status(knox_b).values()} == {"in_sync"}


def test_status_without_the_detailed_listing_takes_the_vault_way(
    bao: BaoServer, prefix: str, alice: Vault, bob: Vault, knox_a, knox_b
) -> None:
    """HashiCorp Vault has no detailed-metadata listing (and a policy may not grant it): status
    and pull list the folder and read each item's metadata, with the same answers."""
    for index in range(20):
        alice.add_string(f"item-{index:02d}", f"value {index}")
    _add_remote(knox_a, bao, prefix, token=bao.extra["vaultlike_token"])
    assert knox_a("push", "--all")[0] == 0
    alice.add_string("item-00", "changed", replace=True)
    states = _status(knox_a)
    assert states["item-00"]["state"] == "local_ahead"
    assert {states[f"item-{i:02d}"]["state"] for i in range(1, 20)} == {"in_sync"}
    _add_remote(knox_b, bao, prefix, token=bao.extra["vaultlike_token"])
    code, _, err = knox_b("pull", "--all")
    assert code == 0, err
    assert bob.resolve("item-07", "default") == "value 7"
    with bao.admin(bao.extra["vaultlike_token"]) as client:
        denied = client.request("LIST", f"secret/detailed-metadata/{prefix}/secrets/")
    assert denied.status_code == 403  # the fallback was really taken


def test_plain_http_to_another_machine_is_refused(knox_a, alice: Vault) -> None:
    code, _, err = knox_a("remote", "add", "far", "--url", "http://bao.team.example:8200")
    assert code == 2 and "unencrypted" in err and "--allow-plaintext" in err
    assert alice.remotes.all() == []
    code, _, err = knox_a(
        "remote", "add", "far", "--url", "http://bao.team.example:8200", "--allow-plaintext"
    )
    assert code == 0, err


def test_the_server_is_reached_through_the_environments_proxy(
    bao_tls: BaoServer, prefix: str, alice: Vault, knox_a, tmp_path: Path, monkeypatch
) -> None:
    """HTTPS_PROXY as the routes read it: a CONNECT tunnel through a real tinyproxy, with the
    certificate login (mTLS) inside the tunnel."""
    from tests.net.proxies import tinyproxy

    client_ca: LocalCA = bao_tls.extra["client_ca"]
    cert, key = client_ca.issue("knox-proxy")
    alice.add_certificate("bao_login", load_bundle(cert + client_ca.pem, key_data=key_pem(key)))
    assert bao_tls.ca_pem is not None
    alice.add_string("bao_ca", bao_tls.ca_pem.decode())
    code, _, err = knox_a(
        "remote", "add", "tls", "--url", bao_tls.url, "--prefix", prefix, "--auth", "cert",
        "--cert-secret", "bao_login", "--ca-bundle-secret", "bao_ca",
    )  # fmt: skip
    assert code == 0, err
    port = bao_tls.url.rsplit(":", 1)[1]
    with tinyproxy(tmp_path, connect_ports=(int(port),)) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        code, _out, err = knox_a("push", "--all", "--json")
        assert code == 0, err
        assert any(f"CONNECT 127.0.0.1:{port}" in line for line in proxy.connects())
    assert _upstream(bao_tls, prefix, "secrets", "bao_ca")["metadata"]["version"] == 1
