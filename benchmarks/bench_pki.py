"""PKI core: validating a typical bundle (leaf + intermediate + RSA-2048 key) with `load_bundle`,
against the bare cost of cryptography loading the same three objects, in the same run.

Reference: two `load_pem_x509_certificate` calls and one `load_pem_private_key` with
`unsafe_skip_rsa_key_validation=True`. The fully validated key load (OpenSSL 3's RSA check,
cryptography issue 7236) is printed beside it. Goal: the unencrypted bundle, re-validated as on
every keystroke of live validation, under 2x the reference.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from benchmarks.harness import median_seconds, row


def _material() -> tuple[list[bytes], bytes, bytes, bytes]:
    import trustme

    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    intermediate = ca.create_child_ca(key_type=trustme.KeyType.RSA)
    leaf = intermediate.issue_cert("client.example", key_type=trustme.KeyType.RSA)
    certs = [blob.bytes() for blob in leaf.cert_chain_pems[:2]]
    key = leaf.private_key_pem.bytes()
    loaded = serialization.load_pem_private_key(key, None)
    encrypted = loaded.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"bench passphrase"),
    )
    return certs, key, encrypted, b"".join(certs)


def _cold(fn: Callable[[], object]) -> Callable[[], object]:
    from knoxtui.pki import certificate, key

    def run() -> object:
        key.clear_key_cache()
        certificate._cache.clear()
        return fn()

    return run


def main() -> None:
    from knoxtui.pki import load_bundle

    certs, key_pem, encrypted_pem, chain = _material()
    plain_bundle = chain + key_pem
    encrypted_bundle = chain + encrypted_pem

    def bare_skip() -> None:
        for cert in certs:
            x509.load_pem_x509_certificate(cert)
        serialization.load_pem_private_key(key_pem, None, unsafe_skip_rsa_key_validation=True)

    def bare_full() -> None:
        for cert in certs:
            x509.load_pem_x509_certificate(cert)
        serialization.load_pem_private_key(key_pem, None)

    def bare_encrypted() -> None:
        for cert in certs:
            x509.load_pem_x509_certificate(cert)
        serialization.load_pem_private_key(
            encrypted_pem, b"bench passphrase", unsafe_skip_rsa_key_validation=True
        )

    def plain() -> object:
        return load_bundle(plain_bundle)

    def encrypted() -> object:
        return load_bundle(encrypted_bundle, passphrase="bench passphrase")

    assert load_bundle(plain_bundle).key_matches is True
    assert load_bundle(encrypted_bundle, passphrase="bench passphrase").key_matches is True

    reference = median_seconds(bare_skip, repeat=9, number=200)
    full = median_seconds(bare_full, repeat=5, number=5)
    bare_enc = median_seconds(bare_encrypted, repeat=5, number=5)
    warm = median_seconds(plain, repeat=9, number=200)
    cold = median_seconds(_cold(plain), repeat=9, number=50)
    warm_enc = median_seconds(encrypted, repeat=9, number=200)
    cold_enc = median_seconds(_cold(encrypted), repeat=5, number=5)

    print("typical bundle: leaf + intermediate + RSA-2048 key (PEM)")
    print(row("reference: cryptography, 2 certs + key, RSA check skipped", reference, reference))
    print(row("cryptography, 2 certs + key, fully validated", full, reference))
    print(
        row("load_bundle unencrypted, re-validated (cached by hash)", warm, reference, "goal < 2x")
    )
    print(row("load_bundle unencrypted, first sight (caches cleared)", cold, reference))
    print(row("cryptography, 2 certs + encrypted key (PBKDF2), check skipped", bare_enc, reference))
    print(row("load_bundle encrypted, re-validated (cached by hash)", warm_enc, reference))
    print(row("load_bundle encrypted, first sight (caches cleared)", cold_enc, reference))
    print(
        f"  unencrypted re-validation: {warm / reference:.2f}x the bare skip-validation load "
        f"({'meets' if warm / reference < 2 else 'misses'} the 2x goal); "
        f"first sight {cold / reference:.2f}x; full validation would be "
        f"{full / reference:.0f}x"
    )
