"""Which stored certificate fits the CA names a server accepts (knoxtui.pki.fit)."""

from __future__ import annotations

from dataclasses import dataclass

from knoxtui.pki.fit import fitting_certificates


@dataclass(frozen=True)
class Meta:
    issuer: str
    chain_issuers: tuple[str, ...] = ()


ROOT = "CN=Bank Root CA,O=Bank,C=GB"
ISSUING = "CN=Bank Issuing CA 2,O=Bank,C=GB"
OTHER = "CN=Partner CA,O=Partner,C=DE"

CANDIDATES = [
    ("bank_direct", "production", Meta(issuer=ISSUING, chain_issuers=(ISSUING, ROOT))),
    ("bank_root_only", "sandbox", Meta(issuer=ROOT)),
    ("partner", "default", Meta(issuer=OTHER, chain_issuers=(OTHER,))),
]


def test_life_fit_matches_issuer_and_chain() -> None:
    fits = fitting_certificates(["C = GB, O = Bank, CN = Bank Root CA"], CANDIDATES)
    assert [(f.secret, f.direct) for f in fits] == [
        ("bank_root_only", True),
        ("bank_direct", False),
    ]
    assert fits[0].matched_ca == "C = GB, O = Bank, CN = Bank Root CA"


def test_life_fit_prefers_direct_issuer() -> None:
    fits = fitting_certificates([ROOT, ISSUING.lower()], CANDIDATES)
    assert [(f.secret, f.direct) for f in fits] == [("bank_direct", True), ("bank_root_only", True)]


def test_life_fit_none_when_no_chain_leads_to_an_accepted_ca() -> None:
    assert fitting_certificates(["CN=Unknown CA,O=Nobody,C=FR"], CANDIDATES) == []


def test_life_fit_empty_ca_list_accepts_all() -> None:
    assert {f.secret for f in fitting_certificates([], CANDIDATES)} == {c[0] for c in CANDIDATES}
