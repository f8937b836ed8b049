"""Acceptance (issue 6's check): certificates made by the openssl tool at every expiry stage, a
vault driven through the command line (check, csr new/attach, rotate, export, report), and the
exported files opened by `openssl pkcs12` / `openssl pkey`."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from knoxtui import cli, clock
from knoxtui.vault import connection as vault_connection

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
KEY_PASS = "life key pass 31"
EXPORT_PASS = "export pass Lynx 8"
# name -> (start, end): valid, <= 90 days, <= 30 days, expired, not yet valid at NOW
STAGES = {
    "valid": ("20260101000000Z", "20270601000000Z"),
    "warning": ("20260101000000Z", "20260801000000Z"),
    "urgent": ("20260101000000Z", "20260620000000Z"),
    "expired": ("20250101000000Z", "20260501000000Z"),
    "future": ("20260701000000Z", "20270701000000Z"),
}
CA_CONFIG = """[ca]
default_ca = qa
[qa]
dir = .
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
organizationName = optional
commonName = supplied
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.qa.example
"""

Run = Callable[..., tuple[int, str, str]]


def _openssl(d: Path, *args: str) -> str:
    done = subprocess.run(["openssl", *args], cwd=d, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()[-400:]
    return done.stdout.decode() + done.stderr.decode()  # pkcs12 -info reports on stderr


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("life-openssl")
    (d / "issued").mkdir()
    (d / "index.txt").write_text("")
    (d / "serial").write_text("2000\n")
    (d / "ca.cnf").write_text(CA_CONFIG)
    (d / "kp.txt").write_text(KEY_PASS + "\n")
    (d / "ep.txt").write_text(EXPORT_PASS + "\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl(d, "req", "-new", *ec, "-keyout", "ca.key", "-out", "ca.csr", "-subj", "/CN=Life CA")
    _openssl(d, "ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "ca.key", "-in",
             "ca.csr", "-out", "ca.pem", "-notext", "-startdate", "20250101000000Z", "-enddate",
             "20350101000000Z", "-extensions", "ca_ext")  # fmt: skip
    for name, (start, end) in STAGES.items():
        curve = "P-384" if name == "urgent" else "P-256"
        _openssl(d, "req", "-new", "-newkey", "ec", "-pkeyopt", f"ec_paramgen_curve:{curve}",
                 "-passout", "file:kp.txt", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/O=QA Life/CN={name}.qa.example")  # fmt: skip
        _openssl(d, "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                 "-in", f"{name}.csr", "-out", f"{name}.pem", "-notext", "-startdate", start,
                 "-enddate", end, "-extensions", "client")  # fmt: skip
    return d


@pytest.fixture
def run(
    made: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Run]:
    monkeypatch.setattr(vault_connection, "DEFAULT_KDF_ITER", 64)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vault.txt").write_text("life vault pass\n")
    vault = ["--vault", str(tmp_path / "v.knox"), "--vault-passphrase-file", "vault.txt"]

    def knoxtui(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        # a bare name of the openssl-made material stands for that file
        paths = [str(made / a) if "/" not in a and (made / a).is_file() else a for a in argv]
        code = cli.main([*vault, *paths])
        out, err = capsys.readouterr()
        assert KEY_PASS not in out + err and EXPORT_PASS not in out + err
        return code, out, err

    with clock.frozen(NOW):
        kp = ("--key-passphrase-file", "kp.txt")
        for name in STAGES:
            extra = ("--allow-expired",) if name in ("expired", "future") else ()
            files = ("--file", f"{name}.pem", "--key", f"{name}.key", *kp, *extra)
            code, _, err = knoxtui("secret", "add", f"{name}_cert", "--type", "certificate", *files)
            assert code == 0, err
            if name != "valid":  # valid_cert is left unused by any route
                route = tmp_path / f"{name}.json"
                route.write_text(json.dumps({"target_url": f"https://{name}.qa.example/",
                                             "certificate_secret_id": f"{name}_cert"}))  # fmt: skip
                assert knoxtui("route", "add", f"{name}_route", "--config", str(route))[0] == 0
        yield knoxtui


def test_check_exit_codes_days_and_json(run: Run) -> None:
    code, out, _ = run("check", "--json")
    report = json.loads(out)
    assert code == 1
    rows = {row["secret"]: row for row in report["certificates"]}
    assert {name: rows[f"{name}_cert"]["status"] for name in STAGES} == {
        "valid": "valid",
        "warning": "warning",
        "urgent": "urgent",
        "expired": "expired",
        "future": "not_yet_valid",
    }
    assert rows["urgent_cert"]["days_remaining"] == 18
    assert rows["urgent_cert"]["routes"] == ["urgent_route"]
    # regression: a certificate no route uses was said to break "default"/every environment
    assert rows["valid_cert"]["routes"] == [] and rows["valid_cert"]["breaks_environments"] == []
    assert [r["secret"] for r in report["certificates"] if r["due"]] == [
        "expired_cert",
        "urgent_cert",
    ]
    code, out, _ = run("check", "--days", "100")
    assert code == 1 and "warning_cert" in out
    with pytest.raises(SystemExit) as usage:
        run("check", "--days", "-1")
    assert usage.value.code == 2


def test_csr_like_keeps_the_key_type_then_attach_rotate_retire(run: Run, made: Path) -> None:
    # regression: --like an EC P-384 certificate made an RSA-2048 key by default
    code, out, err = run("csr", "new", "urgent_2027", "--like", "urgent_cert", "--out", "new.csr")
    assert code == 0, err
    text = _openssl(Path.cwd(), "req", "-in", "new.csr", "-noout", "-verify", "-text", "-subject")
    assert "NIST CURVE: P-384" in text and "CN = urgent.qa.example" in text
    assert "DNS:client.qa.example" in text
    _openssl(made, "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
             "-in", str(Path.cwd() / "new.csr"), "-out", str(Path.cwd() / "new.pem"), "-notext",
             "-startdate", "20260525000000Z", "-enddate", "20270525000000Z",
             "-extensions", "client")  # fmt: skip
    assert run("csr", "attach", "urgent_2027", "--cert", "valid.pem")[0] == 1  # not its key
    assert run("csr", "attach", "urgent_2027", "--cert", "new.pem")[0] == 0
    code, out, _ = run("rotate", "urgent_cert", "urgent_2027", "--dry-run")
    assert code == 0 and "would repoint route 'urgent_route'" in out
    assert "urgent_cert" in run("route", "show", "urgent_route")[1]
    assert run("rotate", "urgent_cert", "urgent_2027", "--grace-days", "7")[0] == 0
    assert '"certificate_secret_id": "urgent_2027"' in run("route", "show", "urgent_route")[1]
    code, _, err = run("retire", "urgent_cert")
    assert code == 1 and "grace period" in err
    assert run("retire", "urgent_cert", "--force", "--yes")[0] == 0
    assert "urgent_cert" not in run("secret", "list")[1]
    assert run("check", "--json")[0] == 1  # expired_cert is still there


def test_exports_open_in_openssl_with_mode_0600(run: Run, made: Path) -> None:
    ep = ("--export-passphrase-file", str(made / "ep.txt"))
    export = ("secret", "export", "warning_cert")
    assert run(*export, "--format", "pkcs12", "--out", "modern.p12", *ep)[0] == 0
    assert run(*export, "--format", "pkcs12", "--legacy", "--out", "legacy.p12", *ep)[0] == 0
    assert run(*export, "--format", "pem", "--out", "key.pem", *ep)[0] == 0
    assert run(*export, "--format", "pem", "--out", "plain.pem")[0] == 2  # asks; no terminal
    here = Path.cwd()
    passin = ("-passin", f"file:{made / 'ep.txt'}")
    info = _openssl(here, "pkcs12", "-info", "-noout", "-in", "modern.p12", *passin)
    assert "AES-256-CBC" in info
    legacy = _openssl(here, "pkcs12", "-info", "-noout", "-legacy", "-in", "legacy.p12", *passin)
    assert "3-KeyTripleDES" in legacy
    assert "ENCRYPTED PRIVATE KEY" in (here / "key.pem").read_text()
    theirs = _openssl(made, "pkey", "-in", "warning.key", "-passin", "file:kp.txt", "-pubout")
    assert _openssl(here, "pkey", "-in", "key.pem", *passin, "-pubout") == theirs
    for name in ("modern.p12", "legacy.p12", "key.pem"):
        assert (here / name).stat().st_mode & 0o777 == 0o600
    assert not (here / "plain.pem").exists()
    assert run(*export, "--format", "pem", "--out", "open.pem", "--insecure-plaintext-key")[0] == 0
    assert "-----BEGIN PRIVATE KEY-----" in (here / "open.pem").read_text()
    exports = [e for e in json.loads(run("audit", "--json")[1]) if e["operation"] == "export"]
    # regression: export rows said nothing of the format, the file or a plaintext key
    assert [e["detail"].split(" to ")[0] for e in exports] == [
        "pkcs12",
        "pkcs12 (legacy 3DES)",
        "pem",
        "pem",
    ]
    assert exports[0]["detail"].endswith("modern.p12'; key encrypted")
    assert exports[3]["detail"].endswith("KEY UNENCRYPTED (--insecure-plaintext-key)")


def test_report_formats_hold_no_values_and_the_file_is_private(run: Run) -> None:
    code, out, _ = run("report", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == len(STAGES)
    assert json.loads(run("report", "--format", "json")[1])["counts"]["expired"] == 1
    assert run("report", "--format", "md")[1].startswith("# Certificate inventory")
    assert run("report", "--format", "json", "--out", "inventory.json")[0] == 0
    # regression: the report (every subject, route and the vault path) was written 0644
    assert (Path.cwd() / "inventory.json").stat().st_mode & 0o777 == 0o600
    for text in (out, (Path.cwd() / "inventory.json").read_text()):
        assert "BEGIN" not in text and KEY_PASS not in text


def test_dry_run_names_the_oauth2_secrets_that_move(run: Run, made: Path, tmp_path: Path) -> None:
    # regression: the dry run said "nothing to repoint" while the rotation moved oauth2 clients
    config = {
        "token_url": "https://auth.qa.example/token",
        "client_id": "qa",
        "auth_method": "tls_client_auth",
        "certificate_secret_id": "valid_cert",
    }
    (tmp_path / "oauth.json").write_text(json.dumps(config))
    assert run("secret", "add", "client", "--type", "oauth2", "--config", "oauth.json")[0] == 0
    files = ("--file", "warning.pem", "--key", "warning.key", "--key-passphrase-file", "kp.txt")
    assert run("secret", "add", "next", "--type", "certificate", *files)[0] == 0
    code, out, err = run("rotate", "valid_cert", "next", "--dry-run")
    assert code == 0 and "nothing to repoint" not in err
    assert "would repoint oauth2 secret 'client': certificate_secret_id  valid_cert -> next" in out
    assert run("secret", "show", "client", "--json")[1].count('"valid_cert"') == 2


def test_attach_a_p7b_from_openssl_without_a_warning(run: Run, made: Path) -> None:
    # regression: openssl's unsorted (BER) certificate SET printed cryptography's UserWarning
    from knoxtui.lifecycle.renewal import certificates_in

    subject = ("--subject", "/O=QA Life/CN=p7.qa.example", "--san", "DNS:p7.qa.example")
    code, _, err = run("csr", "new", "p7", *subject, "--key-type", "rsa-3072", "--out", "p7.csr")
    assert code == 0, err
    here = Path.cwd()
    _openssl(made, "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
             "-in", str(here / "p7.csr"), "-out", str(here / "p7.pem"), "-notext", "-startdate",
             "20260525000000Z", "-enddate", "20270525000000Z", "-extensions", "client")  # fmt: skip
    ca = str(made / "ca.pem")
    for name, order in (("a.p7b", ("p7.pem", ca)), ("b.p7b", (ca, "p7.pem"))):
        files = [arg for path in order for arg in ("-certfile", path)]
        _openssl(here, "crl2pkcs7", "-nocrl", *files, "-outform", "DER", "-out", name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [len(certificates_in((here / n).read_bytes())) for n in ("a.p7b", "b.p7b")] == [2, 2]
        code, _, err = run("csr", "attach", "p7", "--cert", "a.p7b")
    assert code == 0, err
    shown = json.loads(run("secret", "show", "p7", "--json")[1])
    assert shown["environments"][0]["metadata"]["key_size"] == 3072
