"""CertificateBundle: one input (a certificate file, an optional key file, an optional
passphrase) read, paired and judged. `load_bundle` never raises; every problem is a Finding."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from knoxtui import clock
from knoxtui.pki import reader
from knoxtui.pki.certificate import CertificateInfo, public_key_shape
from knoxtui.pki.chain import build_chain, pick_leaf
from knoxtui.pki.expiry import DEFAULT_THRESHOLDS, ExpiryStatus, ExpiryThresholds
from knoxtui.pki.finding import Finding, PkiError, Severity, finding
from knoxtui.pki.key import LoadedKey, check_fully, passphrase_bytes, public_key_description
from knoxtui.safetext import visible

# The leaf's fields at the top of `inspect --json`, in DESIGN.md §4 order.
_LEAF_FIELDS = (
    "subject",
    "subject_cn",
    "issuer",
    "issuer_cn",
    "serial",
    "valid_from",
    "valid_until",
    "days_remaining",
    "fingerprint_sha256",
    "key_type",
    "key_size",
    "san",
    "extended_key_usage",
    "client_auth_eku",
)
_WEAK_SIZES = {"rsa": 2048, "dsa": 2048, "ec": 256}
_WEAK_DIGESTS = ("md2", "md5", "sha1")


@dataclass(frozen=True)
class CertificateBundle:
    source: str
    format: str
    certificates: tuple[CertificateInfo, ...]
    private_key: PrivateKeyTypes | None = field(repr=False)
    encrypted_key: bool
    key_matches: bool | None
    findings: tuple[Finding, ...]
    now: datetime
    thresholds: ExpiryThresholds
    key_found: bool = False  # a key was in the input, even if it could not be decrypted
    # a Java keystore's private-key entries (aliases, sorted): the console offers the choice
    key_aliases: tuple[str, ...] = ()

    @property
    def leaf(self) -> CertificateInfo | None:
        return self.certificates[0] if self.certificates else None

    @property
    def chain(self) -> tuple[CertificateInfo, ...]:
        return self.certificates[1:]

    @property
    def has_private_key(self) -> bool:
        return self.private_key is not None or self.key_found

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def status(self) -> ExpiryStatus | None:
        leaf = self.leaf
        return leaf.status(self.now, self.thresholds) if leaf else None

    def has_finding(self, code: str) -> bool:
        return any(f.code == code for f in self.findings)

    def chain_pem(self) -> bytes:
        """Leaf and intermediates as PEM, leaf-to-root; a self-signed root at the top and
        certificates that do not belong to the leaf's chain are left out (peers never need them)."""
        linked = self._linked
        if len(linked) > 1 and linked[-1].self_signed:
            linked = linked[:-1]
        return b"".join(c.pem for c in linked)

    @property
    def public_key(self) -> str | None:
        """Public description of the private key ('RSA-2048 …a3f1c2'), safe to show."""
        return public_key_description(self.private_key) if self.private_key is not None else None

    def key_pem_plain(self) -> bytes | None:
        """The key as unencrypted PKCS#8 PEM, for the TLS layer in memory. Never write it out."""
        if self.private_key is None:
            return None
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def key_pem_for_storage(self, passphrase: str | bytes | None) -> bytes | None:
        """PKCS#8 PEM to store: encrypted with `passphrase` when the key came encrypted (raises
        PkiError passphrase_required without one), unencrypted otherwise."""
        if self.private_key is None:
            return None
        # Loading skipped OpenSSL's full RSA check for speed; a key that is kept gets it once.
        check_fully(self.private_key)
        if not self.encrypted_key:
            return self.key_pem_plain()
        password = passphrase_bytes(passphrase)
        if password is None:
            raise PkiError(
                "passphrase_required",
                "The key came encrypted; a passphrase is needed to store it encrypted.",
                "Give the key passphrase.",
            )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )

    @property
    def _linked(self) -> list[CertificateInfo]:
        # The leaf's own chain is the prefix in which each certificate issued the one before.
        linked: list[CertificateInfo] = []
        for info in self.certificates:
            if linked and not info.issued(linked[-1]):
                break
            linked.append(info)
        return linked

    def to_dict(self) -> dict[str, Any]:
        """The `inspect --json` object of DESIGN.md §4 (leaf fields at the top, `chain` listing
        every certificate leaf-to-root, the leaf included), plus a few extra fields after them."""
        leaf = self.leaf
        out: dict[str, Any] = {
            "source": self.source,
            "format": self.format,
            "valid": self.valid,
            "status": str(self.status) if self.status else None,
        }
        full = leaf.to_dict(self.now, self.thresholds) if leaf is not None else {}
        for name in _LEAF_FIELDS:
            out[name] = full.get(name, [] if name in ("san", "extended_key_usage") else None)
        if leaf is None and self.private_key is not None:
            # a key alone still has a type and size (what `openssl pkey -text` prints)
            out["key_type"], out["key_size"], full["curve"] = public_key_shape(self.private_key)
        out["chain"] = [c.chain_entry() for c in self.certificates]
        out["has_private_key"] = self.has_private_key
        out["encrypted_key"] = self.encrypted_key
        out["key_matches"] = self.key_matches
        out["findings"] = [f.to_dict() for f in self.findings]
        for extra in (
            "curve",
            "key_usage",
            "signature_algorithm",
            "is_ca",
            "self_signed",
            "organization_identifier",
            "psd2",
        ):
            out[extra] = full.get(extra)
        out["key_description"] = self.public_key
        return out


def load_bundle(
    data: bytes,
    *,
    key_data: bytes | None = None,
    passphrase: str | bytes | None = None,
    source: str = "<input>",
    now: datetime | None = None,
    thresholds: ExpiryThresholds | None = None,
    require_key: bool = False,
    alias: str | None = None,
    entry_passphrase: str | bytes | None = None,
) -> CertificateBundle:
    """Read a certificate input and judge it. Never raises for any input bytes.

    `key_data` is an optional separate key file; `passphrase` opens an encrypted key or a
    PKCS#12 file. `require_key=True` (importing a client certificate for mTLS) makes the lack
    of a private key an error (`missing_private_key`); without it, a certificate alone is fine
    and `has_private_key` is simply false (`knoxtui inspect`, CA bundles). `alias` names the
    private-key entry of a Java keystore holding several; `entry_passphrase` opens that entry
    when its password differs from the store password (`passphrase`).
    """
    moment = now if now is not None else clock.now()
    limits = thresholds if thresholds is not None else DEFAULT_THRESHOLDS
    try:
        return _load(
            data,
            key_data,
            passphrase,
            source,
            moment,
            limits,
            require_key,
            alias,
            entry_passphrase,
        )
    except Exception:  # the contract: problems are findings, never exceptions (nor their names)
        problem = finding(
            "corrupt",
            "The input could not be read; it is damaged or malformed.",
            "Export the certificate again from its source.",
        )
        return CertificateBundle(
            source, "unknown", (), None, False, None, (problem,), moment, limits
        )


def _load(
    data: bytes,
    key_data: bytes | None,
    passphrase: str | bytes | None,
    source: str,
    now: datetime,
    thresholds: ExpiryThresholds,
    require_key: bool,
    alias: str | None = None,
    entry_passphrase: str | bytes | None = None,
) -> CertificateBundle:
    main = reader.read(data, passphrase, alias=alias, entry_passphrase=entry_passphrase)
    findings = list(main.findings)
    certificates = _unique(main.certificates)
    keys: list[LoadedKey] = list(main.keys)
    key_errors = list(main.key_errors)
    key_found = main.key_found > 0
    key_encrypted = main.key_encrypted
    notes = set(main.notes)
    crls = main.crls
    if key_data is not None:
        extra = reader.read(key_data, passphrase, what="key file")
        findings.extend(extra.findings)
        keys = extra.keys + keys  # the key named explicitly comes first
        key_errors = extra.key_errors + key_errors
        key_found = key_found or extra.key_found > 0
        key_encrypted = key_encrypted or extra.key_encrypted
        certificates = _unique(certificates + extra.certificates)
        notes |= extra.notes
        crls += extra.crls

    if not keys:
        findings.extend(e.to_finding() for e in key_errors[:1])

    chosen: LoadedKey | None = keys[0] if keys else None
    infos: tuple[CertificateInfo, ...] = ()
    key_matches: bool | None = None
    if certificates:
        leaf = main.leaf if main.leaf is not None and not keys else None
        leaf = leaf or pick_leaf(certificates, [k.spki for k in keys])
        chain = build_chain(certificates, leaf, ordered=main.ordered)
        infos = chain.ordered
        if keys:
            matching = [k for k in keys if leaf.spki and k.spki == leaf.spki]
            key_matches = bool(matching)
            chosen = matching[0] if matching else keys[0]
            if not matching:
                owner = next((c for c in certificates if c.spki and c.spki == chosen.spki), None)
                findings.append(_mismatch(leaf, chosen, owner))
        elif require_key and not key_found:
            findings.append(
                finding(
                    "missing_private_key",
                    f"The certificate {leaf.label} has no private key with it; mTLS needs both.",
                    "Give the key too (--key F, or the key file field), or export a .p12/.pfx "
                    "that includes the private key.",
                )
            )
        findings.extend(_judge_certificates(infos, len(chain.linked), now, thresholds))
        if chain.scrambled:
            findings.append(
                finding(
                    "chain_order",
                    "The certificates were not in leaf-to-root order; knoxtui reordered them "
                    f"({' → '.join(i.label for i in chain.linked)}).",
                    "Nothing to do here; if you use this file with other tools, put the leaf "
                    "certificate first, then each issuer.",
                )
            )
        trusted = next((int(n.split(":")[1]) for n in notes if n.startswith("trusted:")), 0)
        if trusted:
            findings.append(
                finding(
                    "trusted_entries",
                    f"The keystore also holds {trusted} trusted-certificate entr"
                    f"{'ies' if trusted > 1 else 'y'} (CA certificates); they are not part of the "
                    "client identity.",
                    "To trust them for a route's server, add them as a CA bundle secret.",
                )
            )
        if crls:
            findings.append(
                finding(
                    "crl_present",
                    f"The input also holds {crls} certificate revocation list"
                    f"{'s' if crls > 1 else ''} (CRL); knoxtui uses the certificates only.",
                    None,
                )
            )
        if chain.incomplete:
            top = chain.linked[-1]
            findings.append(
                finding(
                    "chain_incomplete",
                    f"The chain stops at {top.label}: its issuer "
                    f"'{visible(top.issuer_cn or top.issuer)}' "
                    "is not in the file, yet other CA certificates are "
                    f"({', '.join(i.label for i in chain.unlinked)}). "
                    "An intermediate certificate is missing.",
                    "Download the missing intermediate from your CA and add it after the leaf.",
                )
            )
    elif key_found or notes:
        findings.append(_no_certificate(chosen, notes))
    elif not findings:
        findings.extend(reader.read(b"", None).findings)

    if chosen is not None:
        if not chosen.encrypted:
            findings.append(
                finding(
                    "unencrypted_key",
                    "The private key is stored unencrypted in this input.",
                    "Keep the file private (chmod 600) or encrypt it: openssl pkcs8 -topk8 -v2 "
                    "aes256 -in key.pem -out key-enc.pem. In the vault it is encrypted anyway.",
                )
            )
        if not certificates:
            findings.extend(_weak_private_key(chosen))
    findings.sort(key=lambda f: (f.severity is not Severity.ERROR, f.severity is Severity.INFO))
    return CertificateBundle(
        source=source,
        format=main.format,
        certificates=infos,
        private_key=chosen.key if chosen else None,
        encrypted_key=chosen.encrypted if chosen else key_encrypted,
        key_matches=key_matches,
        findings=tuple(findings),
        now=now,
        thresholds=thresholds,
        key_found=key_found or chosen is not None,
        key_aliases=tuple(main.key_aliases),
    )


def _unique(certificates: list[CertificateInfo]) -> list[CertificateInfo]:
    seen: set[bytes] = set()
    out = []
    for cert in certificates:
        if cert.digest not in seen:
            seen.add(cert.digest)
            out.append(cert)
    return out


def _mismatch(leaf: CertificateInfo, key: LoadedKey, owner: CertificateInfo | None) -> Finding:
    belongs = f" (it is the key of {owner.label}, further up the chain)" if owner else ""
    return finding(
        "key_mismatch",
        f"The private key does not match the certificate {leaf.label}: the certificate's public "
        f"key is {public_key_description(leaf.certificate)}, the private key's is "
        f"{public_key_description(key.key)}{belongs}.",
        "Use the key that was generated with this certificate's CSR (or export a .p12/.pfx that "
        "holds the pair).",
    )


# What a file that holds no certificate is instead, in the order a mixed file is named by.
_NOT_A_CERTIFICATE: tuple[tuple[str, str, str], ...] = (
    (
        "csr",
        "This is a certificate signing request (CSR), not a certificate: it asks a CA for one.",
        "This is a request; import the certificate the CA issued for it — `knoxtui csr attach "
        "NAME --cert F` when the request came from `knoxtui csr new`, otherwise the issued "
        "certificate with its private key.",
    ),
    (
        "crl_only_pkcs7",
        "This PKCS#7 (.p7c) file holds only a certificate revocation list (CRL), no certificate.",
        "Give the certificate itself (PEM, .p12/.pfx or a .p7b that holds certificates).",
    ),
    (
        "crl",
        "This is a certificate revocation list (CRL), not a certificate.",
        "Give the certificate (PEM, .p12/.pfx or .p7b); revocation lists are for servers to "
        "check, knoxtui does not need them.",
    ),
    (
        "cms_enveloped",
        "This is an encrypted (enveloped) PKCS#7/CMS message, not a certificate bundle.",
        "Decrypt it with the recipient's key (openssl cms -decrypt), or ask for the "
        "certificate as PEM, .p12/.pfx or .p7b.",
    ),
    (
        "cms",
        "This is a PKCS#7/CMS message that holds no certificates.",
        "Ask for the certificate as PEM, .p12/.pfx or a .p7b certificate bundle.",
    ),
    (
        "empty_pkcs7",
        "This PKCS#7 (.p7b) bundle holds no certificates.",
        "Export the bundle again with its certificates, or give the certificate as PEM.",
    ),
    (
        "attribute_certificate",
        "This is an attribute certificate (it grants attributes to a holder), not an X.509 "
        "public-key certificate that can authenticate a TLS client.",
        "Give the client certificate your API provider or CA issued (PEM, .p12/.pfx).",
    ),
    (
        "parameters",
        "This file holds DH, DSA or EC domain parameters, not a certificate or key.",
        "Give the certificate and its private key (PEM, .p12/.pfx).",
    ),
    (
        "empty_keystore",
        "This Java keystore holds no private key and no certificate.",
        "Check that the right keystore was exported (keytool -list shows its entries).",
    ),
    (
        "openssh_certificate",
        "This is an OpenSSH certificate (for SSH logins), not an X.509 certificate for TLS.",
        "Use the certificate (PEM, .p12/.pfx) your API provider issued for mTLS.",
    ),
    (
        "openssh",
        "This is an OpenSSH key, not a TLS certificate.",
        "Use the certificate (PEM, .p12/.pfx) your API provider issued for mTLS.",
    ),
    (
        "openssh_public_key",
        "This is an OpenSSH public key, not a TLS certificate.",
        "Use the certificate (PEM, .p12/.pfx) your API provider issued for mTLS.",
    ),
)


def _no_certificate(key: LoadedKey | None, notes: set[str]) -> Finding:
    for note, message, hint in _NOT_A_CERTIFICATE:
        if note in notes and (key is None or note == "csr"):
            return finding("no_certificate", message, hint)
    if key is None and "public_key" in notes:
        return finding(
            "no_certificate",
            "The input holds only a public key, not a certificate.",
            "Give the certificate your CA issued for this key.",
        )
    described = f" ({public_key_description(key.key)})" if key is not None else ""
    return finding(
        "no_certificate",
        f"The input holds a private key{described} but no certificate.",
        "Give the certificate too (FILE with --key F, or paste both), or put both in one PEM file.",
    )


def _judge_certificates(
    infos: tuple[CertificateInfo, ...], linked: int, now: datetime, thresholds: ExpiryThresholds
) -> list[Finding]:
    found: list[Finding] = []
    for index, info in enumerate(infos[:linked]):
        role = "certificate" if index == 0 else "chain certificate"
        status = info.status(now, thresholds)
        # formatted by hand, and only when a message needs it (strftime costs ~10 µs)
        until = _minute(info.valid_until) if status is not ExpiryStatus.VALID else ""
        days = info.days_remaining(now)
        if status is ExpiryStatus.EXPIRED:
            ago = -days if days < 0 else 0
            found.append(
                finding(
                    "expired",
                    f"The {role} {info.label} expired on {until} ({ago} days ago).",
                    "Renew it with your CA (new CSR or their renewal portal) and import the new "
                    "certificate.",
                )
            )
        elif status is ExpiryStatus.NOT_YET_VALID:
            start = info.valid_from.strftime("%Y-%m-%d %H:%M UTC")
            found.append(
                finding(
                    "not_yet_valid",
                    f"The {role} {info.label} is not valid until {start}.",
                    "Wait until then, or check this computer's clock and time zone.",
                )
            )
        elif status is ExpiryStatus.URGENT:
            found.append(
                finding(
                    "expiry_urgent",
                    f"The {role} {info.label} expires on {until}, in {days} days.",
                    "Renew it now: request the new certificate from your CA today.",
                )
            )
        elif status is ExpiryStatus.WARNING:
            found.append(
                finding(
                    "expiry_warning",
                    f"The {role} {info.label} expires on {until}, in {days} days.",
                    "Plan the renewal; CAs can take days to issue a new certificate.",
                )
            )
        if info.problems:
            found.append(
                finding(
                    "non_strict_encoding",
                    f"The {role} {info.label} is read as OpenSSL reads it, though "
                    f"{'; '.join(info.problems)}.",
                    "Usable as is with most servers; if one refuses it, ask the issuer for a "
                    "certificate that follows RFC 5280.",
                )
            )
        minimum = _WEAK_SIZES.get(info.key_type)
        if minimum and info.key_size is not None and info.key_size < minimum:
            found.append(
                finding(
                    "weak_key",
                    f"The {role} {info.label} has a weak {info.key_type.upper()}-{info.key_size} "
                    f"key (at least {minimum} bits expected).",
                    "Ask your CA for a new certificate with an RSA-2048+ or EC P-256+ key; many "
                    "servers refuse weaker keys.",
                )
            )
        if not info.self_signed and any(
            d in info.signature_algorithm.lower() for d in _WEAK_DIGESTS
        ):
            found.append(
                finding(
                    "weak_signature",
                    f"The {role} {info.label} is signed with {info.signature_algorithm}, which is "
                    "no longer considered safe.",
                    "Ask your CA to re-issue it with a SHA-256 (or stronger) signature.",
                )
            )
    leaf = infos[0]
    if not leaf.client_auth_eku:
        names = ", ".join(leaf.extended_key_usage)
        found.append(
            finding(
                "no_client_auth_eku",
                f"The certificate {leaf.label} is not meant for client authentication (extended "
                f"key usage: {names}).",
                "Servers checking the EKU will refuse it; request a certificate with "
                "'TLS Web Client Authentication' (clientAuth).",
            )
        )
    return found


def _minute(moment: datetime) -> str:
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d} UTC"
    )


def _weak_private_key(key: LoadedKey) -> list[Finding]:
    from knoxtui.pki.certificate import public_key_shape

    kind, size, _ = public_key_shape(key.key)
    minimum = _WEAK_SIZES.get(kind)
    if minimum and size is not None and size < minimum:
        return [
            finding(
                "weak_key",
                f"The private key is a weak {kind.upper()}-{size} key (at least {minimum} bits "
                "expected).",
                "Generate a new RSA-2048+ or EC P-256+ key and CSR.",
            )
        ]
    return []
