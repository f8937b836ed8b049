"""Certificate chains: find the leaf, order leaf-to-root, notice scrambled or broken chains."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtensionOID


@dataclass(frozen=True)
class Chain:
    """`linked` is the leaf and its issuers, leaf-to-root; `unlinked` the certificates of the
    input that do not belong to that path; `scrambled` says the input listed the path in
    another order; `missing_issuer` names the issuer absent below a non-self-signed top."""

    linked: tuple[x509.Certificate, ...]
    unlinked: tuple[x509.Certificate, ...]
    scrambled: bool
    missing_issuer: x509.Name | None


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def _key_id(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> bytes | None:
    try:
        value = cert.extensions.get_extension_for_oid(oid).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    if isinstance(value, x509.SubjectKeyIdentifier):
        return value.digest
    if isinstance(value, x509.AuthorityKeyIdentifier):
        return value.key_identifier
    return None


def issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Name chaining, tightened by AKI/SKI when both certificates carry them."""
    if child is parent or child.issuer != parent.subject:
        return False
    authority = _key_id(child, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    subject = _key_id(parent, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    return authority is None or subject is None or authority == subject


def pick_leaf(
    certificates: list[x509.Certificate], key_spki: list[bytes], spki_of: dict[int, bytes | None]
) -> x509.Certificate:
    """The certificate a key belongs to; else the one that issued none of the others,
    preferring an end-entity certificate; else the first."""
    for spki in key_spki:
        for cert in certificates:
            if spki_of.get(id(cert)) == spki:
                return cert
    bottoms = [c for c in certificates if not any(issued_by(o, c) for o in certificates)]
    for cert in bottoms:
        if not _is_ca(cert):
            return cert
    return bottoms[0] if bottoms else certificates[0]


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def build_chain(
    certificates: list[x509.Certificate], leaf: x509.Certificate, *, ordered: bool
) -> Chain:
    """Walk from the leaf up through the given certificates. `ordered` is whether the input's
    order means anything (PEM yes, PKCS#7/PKCS#12 no)."""
    linked = [leaf]
    rest = [c for c in certificates if c is not leaf]
    current = leaf
    while not is_self_signed(current):
        parent = next((c for c in rest if issued_by(current, c)), None)
        if parent is None:
            break
        linked.append(parent)
        rest.remove(parent)
        current = parent
    positions = [next(i for i, c in enumerate(certificates) if c is cert) for cert in linked]
    scrambled = ordered and positions != sorted(positions)
    top = linked[-1]
    missing = top.issuer if rest and not is_self_signed(top) else None
    return Chain(tuple(linked), tuple(rest), scrambled, missing)
