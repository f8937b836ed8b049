"""Java keystores (JKS, JCEKS: `.jks`, `.jceks`, `.keystore`), read with pyjks, imported only
when a file starts with a keystore's magic number.

A keystore has a store password (an integrity check over the whole file) and a password per
private-key entry (keytool sets it to the store password unless told otherwise). Certificates are
readable without any password, as `keytool -list` shows them. One private-key entry is the client
identity; with several, the caller names one (`alias`). Trusted-certificate entries alone (a
truststore) are read as a CA bundle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from knoxtui.pki import der
from knoxtui.pki.certificate import certificate_from_der
from knoxtui.pki.finding import PkiError, finding
from knoxtui.pki.key import LoadedKey, open_der
from knoxtui.safetext import visible

if TYPE_CHECKING:
    from knoxtui.pki.reader import Material

MAGIC_JKS = b"\xfe\xed\xfe\xed"
MAGIC_JCEKS = b"\xce\xce\xce\xce"
# JCEKS protects keys with PBEWithMD5AndTripleDES, computed by pyjks in Python (~1 µs a round).
MAX_JCEKS_ROUNDS = 1_000_000


def is_keystore(data: bytes) -> bool:
    return data[:4] in (MAGIC_JKS, MAGIC_JCEKS)


def _text(passphrase: str | bytes | None) -> str | None:
    if passphrase is None:
        return None
    value = passphrase if isinstance(passphrase, str) else bytes(passphrase).decode("utf-8")
    return value or None


def read_keystore(
    data: bytes,
    passphrase: str | bytes | None,
    found: Material,
    what: str,
    *,
    alias: str | None = None,
    entry_passphrase: str | bytes | None = None,
) -> None:
    import jks  # type: ignore[import-untyped]

    kind = "JCEKS" if data[:4] == MAGIC_JCEKS else "JKS"
    found.format = kind.lower()
    store_password = _text(passphrase)
    try:
        store = jks.KeyStore.loads(data, store_password, try_decrypt_keys=False)
    except jks.KeystoreSignatureException:
        found.key_encrypted = True
        found.findings.append(
            finding(
                "wrong_passphrase",
                f"The password does not open the Java keystore ({kind}) {what}: its integrity "
                "check fails.",
                "Give the keystore's store password (the one keytool asked for as "
                "-storepass); watch for a trailing space or newline.",
            )
        )
        return
    except Exception:  # pyjks raises struct, pyasn1 and its own errors for damaged files
        found.findings.append(
            finding(
                "corrupt",
                f"The Java keystore ({kind}) {what} is damaged or of a version knoxtui does not "
                "read.",
                "Export it again, or convert it with keytool -importkeystore -deststoretype "
                "PKCS12 and give the .p12.",
            )
        )
        return
    entries = store.private_keys
    trusted = store.certs
    found.key_aliases = sorted(entries)
    if not entries:
        found.ordered = False
        for entry in trusted.values():
            _add_certificate(found, entry.cert, what)
        if not trusted:
            found.notes.add("empty_keystore")
        return
    if alias is None and len(entries) > 1:
        names = ", ".join(f"'{visible(name)}'" for name in sorted(entries))
        found.findings.append(
            finding(
                "missing_private_key",
                f"The Java keystore {what} holds {len(entries)} private-key entries ({names}); "
                "say which one is the client identity.",
                "Name it with --alias ALIAS (keytool -list shows the entries).",
            )
        )
        return
    name = alias if alias is not None else next(iter(entries))
    entry = entries.get(name)
    if entry is None:
        names = ", ".join(f"'{visible(n)}'" for n in sorted(entries))
        found.findings.append(
            finding(
                "missing_private_key",
                f"The Java keystore {what} has no private-key entry '{visible(name)}' "
                f"(it holds {names}).",
                "Check the alias with keytool -list.",
            )
        )
        return
    for cert_type, cert_der in entry.cert_chain:
        if cert_type == "X.509":
            _add_certificate(found, cert_der, what)
    if trusted:
        found.notes.add(f"trusted:{len(trusted)}")
    found.key_found += 1
    found.key_encrypted = True
    try:
        found.keys.append(_open_entry(entry, store_password, _text(entry_passphrase), kind))
    except PkiError as exc:
        found.key_errors.append(exc)


def _add_certificate(found: Material, cert_der: bytes, what: str) -> None:
    try:
        found.certificates.append(certificate_from_der(cert_der))
    except ValueError:
        found.findings.append(
            finding(
                "corrupt",
                f"A certificate in the Java keystore {what} cannot be decoded.",
                "Export the keystore again from its source.",
            )
        )


def _rounds(entry: Any) -> int | None:
    """Iterations of a JCEKS entry's PBE (salt, iterations), read before pyjks derives."""
    try:
        info = der.children(der.read_tlv(entry._encrypted).value)
        params = der.children(der.children(info[0].value)[1].value)
        return int.from_bytes(params[1].value, "big")
    except (der.DerError, IndexError, AttributeError, TypeError):
        return None


def _open_entry(
    entry: Any, store_password: str | None, entry_password: str | None, kind: str
) -> LoadedKey:
    import jks

    rounds = _rounds(entry)
    if rounds is not None and rounds > MAX_JCEKS_ROUNDS:
        raise PkiError(
            "unsupported_key_encryption",
            f"The keystore's key entry asks for {rounds:,} iterations, which would take far too "
            "long to decrypt; the file is damaged or hostile.",
            "Export the keystore again from its source.",
        )
    candidates = [p for p in (entry_password, store_password) if p is not None]
    if not candidates:
        raise PkiError(
            "passphrase_required",
            f"The private key in the Java keystore ({kind}) is protected by a password and none "
            "was given.",
            "Give the keystore password (--key-passphrase-file F, or the passphrase field); if "
            "the key entry has its own password, give that too (--entry-passphrase-file F).",
        )
    for password in candidates:
        try:
            entry.decrypt(password)
        except jks.DecryptionFailureException:
            continue
        except Exception:
            raise PkiError(
                "unsupported_key_encryption",
                f"The key entry of the Java keystore ({kind}) uses a protection or key format "
                "knoxtui cannot read.",
                "Convert it: keytool -importkeystore -deststoretype PKCS12, and give the .p12.",
            ) from None
        loaded = open_der(entry.pkey_pkcs8, None)
        return LoadedKey(loaded.key, True, loaded.spki)
    if entry_password is None:
        raise PkiError(
            "passphrase_required",
            f"The key entry of the Java keystore ({kind}) has its own password, different from "
            "the store password.",
            "Give the key entry's password too (--entry-passphrase-file F; keytool's -keypass).",
        )
    raise PkiError(
        "wrong_passphrase",
        f"The password does not decrypt the key entry of the Java keystore ({kind}).",
        "Check the key entry's password (keytool's -keypass); watch for a trailing space.",
    )
