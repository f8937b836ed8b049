"""The import checklist's words for two real inputs: an encrypted key without its passphrase is
"found, needs its passphrase" (not "no key given yet"), and a .p12 with leaf + root names the root
as a root (not "1 intermediate(s)")."""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from ui_helpers import KEY_PASSPHRASE, NOW, cert_pem, key_pem, make_ca, make_leaf

from knoxtui import clock
from knoxtui.pki import load_bundle
from knoxtui.ui.widgets.checklist import lines_for_bundle


def _line(lines, topic):
    return next(line for line in lines if line.topic == topic)


def test_encrypted_key_without_passphrase_is_found_not_missing() -> None:
    cert, key = make_leaf(make_ca("Words CA"))
    with clock.frozen(NOW):
        bundle = load_bundle(cert_pem(cert), key_data=key_pem(key, KEY_PASSPHRASE))
    lines = lines_for_bundle(bundle)
    assert "passphrase_required" in {f.code for f in bundle.findings}
    key_line = _line(lines, "key")
    assert "no key given yet" not in (key_line.detail or "")
    assert "encrypted key found" in (key_line.detail or "")


def test_p12_with_leaf_and_root_calls_the_root_a_root() -> None:
    root = make_ca("Words Root")
    issuing = make_ca("Words Issuing", parent=root)
    direct = make_leaf(root)  # issued by the root itself: leaf + root is complete
    below = make_leaf(issuing)
    for (cert, key), cas, words in (
        (direct, [root.cert], "the root CA"),
        (below, [issuing.cert], "1 intermediate, in order"),
        (below, [issuing.cert, root.cert], "1 intermediate, in order + the root CA"),
    ):
        data = pkcs12.serialize_key_and_certificates(
            b"c",
            key,
            cert,
            cas,
            BestAvailableEncryption(b"pw"),  # type: ignore[arg-type]
        )
        with clock.frozen(NOW):
            bundle = load_bundle(data, passphrase="pw")
        chain = _line(lines_for_bundle(bundle), "chain")
        assert words in (chain.detail or ""), (words, chain)
        assert "intermediate(s)" not in (chain.detail or "")


def test_each_interface_names_its_own_way() -> None:
    """A two-way domain hint reads as flags on the command line and as fields/keys on screen."""
    from knoxtui.cli import command_line_hint
    from knoxtui.ui.widgets.checklist import console_hint

    hints = {
        "Store it again with its key: --key F on the command line, or open the secret and press "
        "R in the console.": (
            "Store it again with its key: --key F.",
            "Store it again with its key: open the secret and press R.",
        ),
        "Give the key passphrase (--key-passphrase-file F on the command line, the Key "
        "passphrase field in the console); it is stored encrypted in the vault.": (
            "Give the key passphrase (--key-passphrase-file F); it is stored encrypted in the "
            "vault.",
            "Give the key passphrase (the Key passphrase field); it is stored encrypted in the "
            "vault.",
        ),
        "Give the key passphrase (--key-passphrase-file F, or the passphrase field).": (
            "Give the key passphrase (--key-passphrase-file F).",
            "Give the key passphrase in the Key passphrase field.",
        ),
        "Give the certificate too (FILE with --key F, or paste both), or put both in one PEM "
        "file.": (
            "Give the certificate too (FILE with --key F), or put both in one PEM file.",
            "Give the certificate too (paste both, or name the key file), or put both in one PEM "
            "file.",
        ),
        "Give the key too (--key F, or the key file field), or export a .p12/.pfx that "
        "includes the private key.": (
            "Give the key too (--key F), or export a .p12/.pfx that includes the private key.",
            "Give the key too in the Separate key file field, or export a .p12/.pfx that "
            "includes the private key.",
        ),
        "Give the keystore password (--key-passphrase-file F, or the passphrase field); if the "
        "key entry has its own password, give that too (--entry-passphrase-file F).": (
            "Give the keystore password (--key-passphrase-file F); if the key entry has its own "
            "password, give that too (--entry-passphrase-file F).",
            "Give the keystore password in the Key passphrase field; if the key entry has its own "
            "password, give that too (in the Entry password field).",
        ),
        "Give the key entry's password too (--entry-passphrase-file F; keytool's -keypass).": (
            "Give the key entry's password too (--entry-passphrase-file F; keytool's -keypass).",
            "Give the key entry's password too (in the Entry password field; keytool's -keypass).",
        ),
        "Name it with --alias ALIAS (keytool -list shows the entries).": (
            "Name it with --alias ALIAS (keytool -list shows the entries).",
            "Choose it in the Keystore entry list (keytool -list shows the entries).",
        ),
    }
    for hint, (cli, console) in hints.items():
        assert command_line_hint(hint) == cli
        assert console_hint(hint) == console
