"""Issue 10 class 8: Java keystores (JKS, JCEKS) made by keytool, read like certigo reads them:
store password, per-entry key password, one private-key entry or the one named by --alias,
trusted-certificate entries alone as a CA bundle; through inspect and secret add."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pki_factory as f
import pytest

from knoxtui.cli import main
from knoxtui.pki import load_bundle

pytestmark = [
    pytest.mark.skipif(shutil.which("keytool") is None, reason="no keytool (Java)"),
    pytest.mark.usefixtures("frozen_now"),
]
STORE = "store-pass-1"
ENTRY = "entry-pass-2"


def keytool(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        ["keytool", *args], cwd=cwd, capture_output=True, timeout=120, check=False
    )
    assert result.returncode == 0, (result.stdout + result.stderr).decode()[-500:]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("jks")
    _root, inter, leaf = f.pki()
    other = f.make_cert("second.knox.test", key=f.make_key("ec", 256, 5), issuer=inter)
    (d / "leaf.p12").write_bytes(leaf.pkcs12(STORE))
    (d / "other.p12").write_bytes(other.pkcs12(STORE))
    (d / "root.pem").write_bytes(_root.cert_pem)
    out = {}
    copy = "-importkeystore -noprompt -srcstoretype PKCS12 -srcalias test"
    for kind in ("JKS", "JCEKS"):
        name = f"one.{kind.lower()}"
        keytool(
            *f"{copy} -srckeystore leaf.p12 -srcstorepass {STORE} -destkeystore {name} "
            f"-deststoretype {kind} -deststorepass {STORE} -destalias client".split(),
            cwd=d,
        )
        out[kind] = d / name
    # an entry whose key password differs from the store password
    keytool(
        *f"{copy} -srckeystore leaf.p12 -srcstorepass {STORE} -destkeystore own.jks "
        f"-deststoretype JKS -deststorepass {STORE} -destkeypass {ENTRY} "
        "-destalias client".split(),
        cwd=d,
    )
    out["own"] = d / "own.jks"
    # two private-key entries and a trusted root
    shutil.copy(out["JKS"], d / "two.jks")
    keytool(
        *f"{copy} -srckeystore other.p12 -srcstorepass {STORE} -destkeystore two.jks "
        f"-deststoretype JKS -deststorepass {STORE} -destalias second".split(),
        cwd=d,
    )
    trust = "-importcert -noprompt -file root.pem -alias root -storetype JKS"
    keytool(*f"{trust} -keystore two.jks -storepass {STORE}".split(), cwd=d)
    out["two"] = d / "two.jks"
    keytool(*f"{trust} -keystore trust.jks -storepass {STORE}".split(), cwd=d)
    out["trust"] = d / "trust.jks"
    return out


@pytest.mark.parametrize("kind", ["JKS", "JCEKS"])
def test_pki_keystore_with_store_password_reads_the_pair(
    stores: dict[str, Path], kind: str
) -> None:
    _root, _inter, leaf = f.pki()
    bundle = load_bundle(stores[kind].read_bytes(), passphrase=STORE)
    assert bundle.format == kind.lower()
    assert bundle.errors == (), bundle.findings
    assert bundle.key_matches is True and bundle.encrypted_key is True
    assert bundle.leaf is not None and bundle.leaf.certificate == leaf.cert
    assert len(bundle.certificates) == 3  # keytool keeps the chain from the .p12


@pytest.mark.parametrize("kind", ["JKS", "JCEKS"])
def test_pki_keystore_without_or_with_wrong_password_twin(
    stores: dict[str, Path], kind: str
) -> None:
    data = stores[kind].read_bytes()
    missing = load_bundle(data, require_key=True)
    assert [x.code for x in missing.errors] == ["passphrase_required"]
    assert missing.leaf is not None  # certificates need no password, as with keytool -list
    wrong = load_bundle(data, passphrase="not it")
    assert [x.code for x in wrong.errors] == ["wrong_passphrase"]


def test_pki_keystore_entry_with_its_own_password(stores: dict[str, Path]) -> None:
    data = stores["own"].read_bytes()
    store_only = load_bundle(data, passphrase=STORE)
    assert [x.code for x in store_only.errors] == ["passphrase_required"]
    assert "own password" in store_only.errors[0].message
    both = load_bundle(data, passphrase=STORE, entry_passphrase=ENTRY)
    assert both.errors == () and both.key_matches is True
    wrong = load_bundle(data, passphrase=STORE, entry_passphrase="nope")
    assert [x.code for x in wrong.errors] == ["wrong_passphrase"]


def test_pki_keystore_with_several_keys_asks_which(stores: dict[str, Path]) -> None:
    data = stores["two"].read_bytes()
    ask = load_bundle(data, passphrase=STORE)
    assert [x.code for x in ask.errors] == ["missing_private_key"]
    assert "'client', 'second'" in ask.errors[0].message and "--alias" in (ask.errors[0].hint or "")
    chosen = load_bundle(data, passphrase=STORE, alias="second")
    assert chosen.errors == () and chosen.leaf is not None
    assert chosen.leaf.subject_cn == "second.knox.test" and chosen.key_matches is True
    assert "trusted_entries" in [x.code for x in chosen.findings]
    unknown = load_bundle(data, passphrase=STORE, alias="nobody")
    assert [x.code for x in unknown.errors] == ["missing_private_key"]


def test_pki_truststore_reads_as_a_ca_bundle(stores: dict[str, Path]) -> None:
    root, _inter, _leaf = f.pki()
    bundle = load_bundle(stores["trust"].read_bytes())
    assert bundle.errors == () and [c.certificate for c in bundle.certificates] == [root.cert]
    assert bundle.has_private_key is False


def test_pki_inspect_and_secret_add_read_a_keystore(
    stores: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store_file = tmp_path / "store.txt"
    store_file.write_text(STORE + "\n")
    entry_file = tmp_path / "entry.txt"
    entry_file.write_text(ENTRY + "\n")
    code = main(
        [
            "inspect",
            str(stores["two"]),
            "--key-passphrase-file",
            str(store_file),
            "--alias",
            "client",
            "--json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["format"] == "jks" and data["key_matches"] is True
    monkeypatch.setenv("KNOXTUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KNOXTUI_VAULT_PASSPHRASE", "vault pass for the keystore test")
    code = main(
        [
            "secret",
            "add",
            "bank",
            "--type",
            "certificate",
            "--file",
            str(stores["own"]),
            "--key-passphrase-file",
            str(store_file),
            "--entry-passphrase-file",
            str(entry_file),
        ]
    )
    capsys.readouterr()
    assert code == 0
    code = main(["secret", "show", "bank", "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert code == 0 and "bank" in json.dumps(shown)


def test_pki_truststore_stored_as_a_ca_bundle_string(
    stores: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A truststore given to `secret add --type certificate` points to the CA-bundle way; given
    to `--type string` it is stored as the PEM CA bundle (was: 'not UTF-8 text')."""
    root, _inter, _leaf = f.pki()
    monkeypatch.setenv("KNOXTUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KNOXTUI_VAULT_PASSPHRASE", "vault pass for the truststore test")
    trust = str(stores["trust"])
    code = main(["secret", "add", "roots", "--type", "certificate", "--file", trust])
    err = capsys.readouterr().err
    assert code == 1 and "--type string --value-file" in err
    code = main(["secret", "add", "roots", "--type", "string", "--value-file", trust])
    said = capsys.readouterr()
    assert code == 0 and "CA bundle of 1 certificate" in said.out and "JKS" in said.err
    code = main(["secret", "show", "roots", "--json"])
    shown = json.dumps(json.loads(capsys.readouterr().out))
    assert code == 0 and root.cert.subject.rfc4514_string() in shown
    # a keystore holding a private key is no string value: said so, nothing stored
    code = main(["secret", "add", "other", "--type", "string", "--value-file", str(stores["JKS"])])
    err = capsys.readouterr().err
    assert code == 2 and "--type certificate" in err
    assert main(["secret", "show", "other"]) == 1  # not found
