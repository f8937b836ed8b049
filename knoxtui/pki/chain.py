"""Certificate chains: find the leaf, order leaf-to-root, notice scrambled or broken chains."""

from __future__ import annotations

from dataclasses import dataclass

from knoxtui.pki.certificate import CertificateInfo


@dataclass(frozen=True)
class Chain:
    """`linked` is the leaf and its issuers, leaf-to-root; `unlinked` the certificates of the
    input that are not on that path; `scrambled` says the input listed the path in another
    order; `incomplete` says the path stops below a non-self-signed top while the input holds
    other CA certificates (an intermediate between them is missing)."""

    linked: tuple[CertificateInfo, ...]
    unlinked: tuple[CertificateInfo, ...]
    scrambled: bool
    incomplete: bool

    @property
    def ordered(self) -> tuple[CertificateInfo, ...]:
        return self.linked + self.unlinked


def pick_leaf(certificates: list[CertificateInfo], key_spki: list[bytes]) -> CertificateInfo:
    """The end of the chain: a certificate that issued none of the others, the one a key
    belongs to if any, else an end-entity one, else the first. A key matching an issuer
    (a CA certificate in the file) does not make that issuer the leaf."""
    bottoms = [c for c in certificates if not any(c.issued(o) for o in certificates)] or [
        certificates[0]
    ]
    for spki in key_spki:
        for cert in bottoms:
            if cert.spki and cert.spki == spki:
                return cert
    for cert in bottoms:
        if not cert.is_ca:
            return cert
    return bottoms[0]


def build_chain(
    certificates: list[CertificateInfo], leaf: CertificateInfo, *, ordered: bool
) -> Chain:
    """Walk from the leaf up through the given certificates. `ordered` is whether the input's
    order means anything (PEM yes; a PKCS#7 SET or PKCS#12 bag list no)."""
    linked = [leaf]
    rest = [c for c in certificates if c is not leaf]
    current = leaf
    while not current.self_signed:
        parent = next((c for c in rest if c.issued(current)), None)
        if parent is None:
            break
        linked.append(parent)
        rest.remove(parent)
        current = parent
    index = {id(c): i for i, c in enumerate(certificates)}
    positions = [index[id(c)] for c in linked]
    scrambled = ordered and positions != sorted(positions)
    incomplete = not linked[-1].self_signed and any(c.is_ca or c.self_signed for c in rest)
    return Chain(tuple(linked), tuple(rest), scrambled, incomplete)
