"""Property tests: no input bytes make load_bundle raise or hang; every finding uses a code of
DESIGN.md §3 and never the internal-error fallback."""

from __future__ import annotations

import pki_factory as f
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knoxtui.pki import ERROR_CODES, WARNING_CODES, load_bundle

# A shared 2-core machine: generous per-example deadline, bounded example count.
PROPERTY = settings(
    max_examples=200,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
KNOWN = ERROR_CODES | WARNING_CODES


def check(data: bytes, **kwargs) -> None:
    bundle = load_bundle(data, now=f.NOW, **kwargs)
    for item in bundle.findings:
        assert item.code in KNOWN
        assert "could not be read (" not in item.message, item.message  # the safety net
    if not bundle.certificates and not bundle.findings:
        raise AssertionError("no certificate and no finding")
    bundle.to_dict()


@PROPERTY
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data: bytes) -> None:
    check(data)


def _material() -> list[bytes]:
    _, inter, leaf = f.pki()
    return [
        leaf.cert_pem + inter.cert_pem + leaf.key_pem(),
        leaf.cert_pem + leaf.key_pem(f.PASSPHRASE),
        leaf.cert_der,
        leaf.pkcs12(),
        leaf.pkcs7(der=True),
    ]


@PROPERTY
@given(st.data())
def test_mutated_material(data: st.DataObject) -> None:
    blob = bytearray(data.draw(st.sampled_from(_material())))
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = data.draw(st.integers(0, max(len(blob) - 1, 0)))
        if op == "flip" and blob:
            blob[pos] ^= data.draw(st.integers(1, 255))
        elif op == "cut":
            del blob[pos:]
        elif op == "insert":
            blob[pos:pos] = data.draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del blob[pos : pos + data.draw(st.integers(1, 64))]
    check(bytes(blob), passphrase=data.draw(st.sampled_from([None, f.PASSPHRASE, "x"])))


@PROPERTY
@given(
    st.lists(
        st.sampled_from(
            [
                b"-----BEGIN CERTIFICATE-----\n",
                b"-----END CERTIFICATE-----\n",
                b"-----BEGIN PRIVATE KEY-----\n",
                b"-----END PRIVATE KEY-----\n",
                b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n",
                b"-----BEGIN PKCS7-----\n",
                b"-----END PKCS7-----\n",
                b"Proc-Type: 4,ENCRYPTED\n",
                b"DEK-Info: AES-256-CBC,00\n",
                b"MIIB",
                b"AAAA\n",
                b"====\n",
                b"Bag Attributes\n",
                b"\r\n",
                b"\xef\xbb\xbf",
                b"0\x82\x01\x00",
            ]
        ),
        max_size=30,
    )
)
def test_pem_shaped_noise(parts: list[bytes]) -> None:
    check(b"".join(parts), passphrase="x")
