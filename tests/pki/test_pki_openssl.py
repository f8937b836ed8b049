"""Cross-checks against the openssl command-line tool: files it makes, in every format, read by
load_bundle, and the fields compared with what `openssl x509` prints about them."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from knoxtui import clock
from knoxtui.pki import CertificateBundle, load_bundle

pytestmark = [
    pytest.mark.openssl,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed"),
]
PASS = "s3cret pass"


def openssl(*args: str, cwd: Path, stdin: bytes | None = None) -> str:
    result = subprocess.run(
        ["openssl", *args], cwd=cwd, input=stdin, capture_output=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {result.stderr.decode()[-300:]}")
    return result.stdout.decode()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA and a client certificate made by openssl, and the client in every format."""
    d = tmp_path_factory.mktemp("openssl")
    run = lambda *a: openssl(*a, cwd=d)  # noqa: E731
    run(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "3650",
        "-subj",
        "/C=GB/O=Knox CLI/CN=Knox CLI CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=keyCertSign,cRLSign",
    )
    run(
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "client.key",
        "-out",
        "client.csr",
        "-subj",
        "/C=GB/O=Knox CLI/CN=cli-client.knox.test",
    )
    (d / "ext.cnf").write_text(
        "extendedKeyUsage=clientAuth\nsubjectAltName=DNS:cli-client.knox.test,IP:127.0.0.1\n"
        "basicConstraints=CA:FALSE\n"
    )
    run(
        "x509",
        "-req",
        "-in",
        "client.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "200",
        "-sha256",
        "-extfile",
        "ext.cnf",
        "-out",
        "client.pem",
    )
    run(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-nodes",
        "-keyout",
        "self.key",
        "-out",
        "self.pem",
        "-days",
        "30",
        "-subj",
        "/CN=self.knox.test",
        "-addext",
        "extendedKeyUsage=serverAuth",
    )
    run(
        "pkcs12",
        "-export",
        "-in",
        "client.pem",
        "-inkey",
        "client.key",
        "-certfile",
        "ca.pem",
        "-out",
        "modern.p12",
        "-passout",
        f"pass:{PASS}",
    )
    run(
        "pkcs12",
        "-export",
        "-in",
        "client.pem",
        "-inkey",
        "client.key",
        "-out",
        "empty.p12",
        "-passout",
        "pass:",
    )
    try:
        run(
            "pkcs12",
            "-export",
            "-legacy",
            "-in",
            "client.pem",
            "-inkey",
            "client.key",
            "-certfile",
            "ca.pem",
            "-out",
            "legacy.p12",
            "-passout",
            f"pass:{PASS}",
        )
        run(
            "pkcs12",
            "-export",
            "-legacy",
            "-in",
            "client.pem",
            "-inkey",
            "client.key",
            "-out",
            "legacy-empty.p12",
            "-passout",
            "pass:",
        )
    except RuntimeError:
        pass  # an OpenSSL without the legacy provider: those cases skip
    run("pkcs12", "-in", "modern.p12", "-nodes", "-passin", f"pass:{PASS}", "-out", "nodes.pem")
    run("rsa", "-aes256", "-in", "client.key", "-out", "trad-enc.key", "-passout", f"pass:{PASS}")
    run("rsa", "-in", "client.key", "-traditional", "-out", "trad.key")
    run(
        "pkcs8",
        "-topk8",
        "-v2",
        "aes256",
        "-in",
        "client.key",
        "-out",
        "p8-aes.key",
        "-passout",
        f"pass:{PASS}",
    )
    run(
        "pkcs8",
        "-topk8",
        "-scrypt",
        "-in",
        "client.key",
        "-out",
        "p8-scrypt.key",
        "-passout",
        f"pass:{PASS}",
    )
    run("pkcs8", "-topk8", "-nocrypt", "-in", "client.key", "-outform", "DER", "-out", "key.der")
    run("x509", "-in", "client.pem", "-outform", "DER", "-out", "client.der")
    run(
        "crl2pkcs7", "-nocrl", "-certfile", "client.pem", "-certfile", "ca.pem", "-out", "chain.p7b"
    )
    run(
        "crl2pkcs7",
        "-nocrl",
        "-certfile",
        "client.pem",
        "-certfile",
        "ca.pem",
        "-outform",
        "DER",
        "-out",
        "chain-der.p7b",
    )
    run("ecparam", "-name", "prime256v1", "-genkey", "-out", "ecparam.key")
    run("x509", "-in", "ca.pem", "-trustout", "-addtrust", "clientAuth", "-out", "trusted.pem")
    return d


def openssl_view(made: Path, name: str) -> dict[str, str]:
    out = openssl(
        "x509",
        "-in",
        name,
        "-noout",
        "-subject",
        "-issuer",
        "-serial",
        "-fingerprint",
        "-sha256",
        "-dates",
        "-nameopt",
        "RFC2253",
        cwd=made,
    )
    view = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        view[key.strip()] = value.strip()
    return view


def openssl_date(text: str) -> datetime:
    return datetime.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)


def assert_matches_openssl(bundle: CertificateBundle, made: Path, cert_file: str) -> None:
    view = openssl_view(made, cert_file)
    leaf = bundle.leaf
    assert leaf is not None
    assert leaf.subject == view["subject"]
    assert leaf.issuer == view["issuer"]
    assert leaf.serial == view["serial"]
    assert leaf.fingerprint_sha256 == view["sha256 Fingerprint"]
    assert leaf.valid_from == openssl_date(view["notBefore"])
    assert leaf.valid_until == openssl_date(view["notAfter"])


def read(made: Path, name: str, **kwargs) -> CertificateBundle:
    path = made / name
    if not path.exists():
        pytest.skip(f"openssl could not make {name} here")
    leaf_start = openssl_date(openssl_view(made, "client.pem")["notBefore"])
    with clock.frozen(leaf_start + timedelta(days=1)):
        return load_bundle(path.read_bytes(), source=name, **kwargs)


def test_req_x509_pem_pair(made: Path) -> None:
    bundle = read(made, "client.pem", key_data=(made / "client.key").read_bytes())
    assert bundle.format == "pem" and bundle.valid and bundle.key_matches is True
    assert_matches_openssl(bundle, made, "client.pem")
    assert bundle.leaf is not None and bundle.leaf.key_size == 2048
    assert bundle.leaf.san == ("DNS:cli-client.knox.test", "IP:127.0.0.1")
    assert bundle.leaf.extended_key_usage == ("clientAuth",)


def test_self_signed_server_cert_twin(made: Path) -> None:
    bundle = read(made, "self.pem", key_data=(made / "self.key").read_bytes())
    assert_matches_openssl(bundle, made, "self.pem")
    assert bundle.has_finding("no_client_auth_eku") and bundle.leaf is not None
    assert bundle.leaf.self_signed and bundle.leaf.curve == "secp384r1"
    mismatch = read(made, "client.pem", key_data=(made / "self.key").read_bytes())
    assert mismatch.has_finding("key_mismatch")


@pytest.mark.parametrize("name", ["modern.p12", "legacy.p12"])
def test_pkcs12_with_password(made: Path, name: str) -> None:
    bundle = read(made, name, passphrase=PASS)
    assert bundle.format == "pkcs12" and bundle.valid, bundle.findings
    assert bundle.key_matches is True and bundle.encrypted_key
    assert_matches_openssl(bundle, made, "client.pem")
    assert [c.subject_cn for c in bundle.certificates] == ["cli-client.knox.test", "Knox CLI CA"]
    assert read(made, name).has_finding("passphrase_required")
    assert read(made, name, passphrase="wrong").has_finding("wrong_passphrase")


@pytest.mark.parametrize("name", ["empty.p12", "legacy-empty.p12"])
def test_pkcs12_with_empty_password(made: Path, name: str) -> None:
    bundle = read(made, name)
    assert bundle.valid and bundle.key_matches is True and not bundle.encrypted_key
    assert_matches_openssl(bundle, made, "client.pem")


def test_pkcs12_nodes_output_with_bag_attributes(made: Path) -> None:
    assert (made / "nodes.pem").read_text().startswith("Bag Attributes")
    bundle = read(made, "nodes.pem")
    assert bundle.format == "pem" and bundle.valid and bundle.key_matches is True
    assert_matches_openssl(bundle, made, "client.pem")
    assert len(bundle.certificates) == 2


@pytest.mark.parametrize("key", ["trad-enc.key", "p8-aes.key", "p8-scrypt.key"])
def test_encrypted_keys(made: Path, key: str) -> None:
    data = (made / key).read_bytes()
    bundle = read(made, "client.pem", key_data=data, passphrase=PASS)
    assert bundle.valid and bundle.key_matches is True and bundle.encrypted_key
    assert read(made, "client.pem", key_data=data).has_finding("passphrase_required")
    assert read(made, "client.pem", key_data=data, passphrase="no").has_finding("wrong_passphrase")


@pytest.mark.parametrize("key", ["trad.key", "key.der", "ecparam.key"])
def test_plain_keys(made: Path, key: str) -> None:
    cert = "self.pem" if key == "ecparam.key" else "client.pem"
    bundle = read(made, cert, key_data=(made / key).read_bytes())
    if key == "ecparam.key":
        assert bundle.has_finding("key_mismatch")  # a fresh key: parsed past EC PARAMETERS
        assert bundle.public_key is not None and bundle.public_key.startswith("EC P-256")
    else:
        assert bundle.key_matches is True and bundle.has_finding("unencrypted_key")


def test_der_certificate(made: Path) -> None:
    bundle = read(made, "client.der")
    assert bundle.format == "der" and bundle.valid
    assert_matches_openssl(bundle, made, "client.pem")


@pytest.mark.parametrize("name", ["chain.p7b", "chain-der.p7b"])
def test_pkcs7(made: Path, name: str) -> None:
    bundle = read(made, name)
    assert bundle.format == "pkcs7" and bundle.valid
    assert_matches_openssl(bundle, made, "client.pem")
    assert [c.subject_cn for c in bundle.certificates] == ["cli-client.knox.test", "Knox CLI CA"]
    ca = bundle.certificates[1]
    view = openssl_view(made, "ca.pem")
    assert (ca.subject, ca.serial, ca.fingerprint_sha256) == (
        view["subject"],
        view["serial"],
        view["sha256 Fingerprint"],
    )


def test_inspect_json_on_openssl_files(made: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from knoxtui.cli import main

    (made / "pass.txt").write_text(PASS + "\n")
    code = main(
        [
            "inspect",
            str(made / "modern.p12"),
            str(made / "chain.p7b"),
            "--key-passphrase-file",
            str(made / "pass.txt"),
            "--json",
        ]
    )
    results = json.loads(capsys.readouterr().out)
    assert [r["format"] for r in results] == ["pkcs12", "pkcs7"]
    view = openssl_view(made, "client.pem")
    assert {r["serial"] for r in results} == {view["serial"]}
    assert results[0]["has_private_key"] and results[0]["key_matches"] is True
    assert code == (0 if all(r["valid"] for r in results) else 1)


def test_trusted_certificate_form(made: Path) -> None:
    assert (made / "trusted.pem").read_text().startswith("-----BEGIN TRUSTED CERTIFICATE-----")
    bundle = read(made, "trusted.pem")
    assert bundle.valid and bundle.leaf is not None and bundle.leaf.is_ca
    view = openssl_view(made, "ca.pem")
    assert bundle.leaf.fingerprint_sha256 == view["sha256 Fingerprint"]
