"""The secrets part of the vault: secrets and their per-environment values (certificates,
strings, oauth2 configurations), their lifecycle marks, and resolving a value for use (audited).
Every write runs in the vault's transaction helper and appends its audit row there."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from knoxtui import clock
from knoxtui.errors import Conflict, EnvironmentMissing, NotFound, UsageError, ValidationError
from knoxtui.vault import cabundle, changes
from knoxtui.vault.columns import (
    join_list,
    list_secrets_on,
    load_secrets,
    payload_value,
)
from knoxtui.vault.models import (
    DEFAULT_ENV,
    CertificateValue,
    OAuth2Config,
    SecretInfo,
    check_name,
    iso,
    parse_iso,
    shown_name,
)

if TYPE_CHECKING:
    from knoxtui.pki import CertificateBundle
    from knoxtui.vault.vault import Vault

ALLOWABLE_WITH_EXPIRED = frozenset({"expired", "not_yet_valid"})
RESOLVE_PURPOSES = ("access", "reveal", "export")


MAX_STRING_VALUE = 1024 * 1024  # bytes of UTF-8; as the CLI's --value-file limit


class Secrets(changes.ItemChanges):
    """`vault.secrets`: one row per secret in `secrets`, one per environment in `secret_values`
    (metadata) and `value_blobs` (the value itself)."""

    KIND = changes.SECRET

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def add_certificate(
        self,
        name: str,
        bundle: CertificateBundle,
        *,
        environment: str = DEFAULT_ENV,
        description: str | None = None,
        key_passphrase: str | None = None,
        allow_expired: bool = False,
        replace: bool = False,
        require_key: bool = True,
    ) -> SecretInfo:
        """Store a certificate checked by knoxtui.pki: any error finding refuses it (expired and
        not_yet_valid pass with allow_expired, marked); warnings are kept with the value."""
        check_name(name)
        check_name(environment, "environment")
        allowed = ALLOWABLE_WITH_EXPIRED if allow_expired else frozenset()
        blocking = [f for f in bundle.errors if f.code not in allowed]
        if blocking:
            first = blocking[0]
            others = ", ".join(f.code for f in blocking[1:])
            message = first.message + (f" (also: {others})" if others else "")
            raise ValidationError(message, hint=first.hint, code=first.code)
        leaf = bundle.leaf
        if leaf is None:
            raise ValidationError(
                "The input holds no certificate.",
                hint="Give the client certificate (PEM, DER or PKCS#12).",
                code="no_certificate",
            )
        if bundle.private_key is None and require_key:
            raise ValidationError(
                "A certificate secret for mutual TLS needs its private key.",
                hint="Give the key too (--key F on the command line, the key file field in the "
                "console), or use a PKCS#12 file that holds it.",
                code="missing_private_key",
            )
        if bundle.encrypted_key and not key_passphrase:
            raise ValidationError(
                "The private key is encrypted, but its passphrase was not given to the vault.",
                hint="Give the key passphrase (--key-passphrase-file F on the command line, the "
                "Key passphrase field in the console); it is stored encrypted in the vault.",
                code="passphrase_required",
            )
        stored_passphrase = key_passphrase if bundle.encrypted_key else None
        key_pem = bundle.key_pem_for_storage(stored_passphrase) if bundle.private_key else None
        kept = [f.code for f in bundle.errors if f.code in allowed]
        warnings = tuple(dict.fromkeys([*kept, *(f.code for f in bundle.warnings)]))
        chain_names: list[str] = []
        for cert in bundle.certificates:
            for dn in (cert.issuer, cert.subject):
                if dn not in chain_names:
                    chain_names.append(dn)
        psd2 = getattr(leaf, "psd2", None)
        columns = {
            "subject": leaf.subject,
            "subject_cn": leaf.subject_cn,
            "issuer": leaf.issuer,
            "issuer_cn": leaf.issuer_cn,
            "serial": leaf.serial,
            "valid_from": iso(leaf.valid_from),
            "valid_until": iso(leaf.valid_until),
            "fingerprint_sha256": leaf.fingerprint_sha256,
            "key_type": leaf.key_type,
            "key_size": leaf.key_size,
            "san": join_list(leaf.san),
            "client_auth_eku": int(leaf.client_auth_eku),
            "has_private_key": int(key_pem is not None),
            "has_passphrase": int(stored_passphrase is not None),
            "encrypted_key": int(bool(bundle.encrypted_key) and key_pem is not None),
            "chain_issuers": join_list(chain_names),
            "psd2_roles": join_list(psd2.roles if psd2 else ()),
            "organization_identifier": getattr(leaf, "organization_identifier", None),
            "warnings": join_list(warnings),
            "allowed_expired": int(bool(kept)),
            "details": None,
        }
        blobs = {
            "chain_pem": bundle.chain_pem(),
            "key_pem": key_pem,
            "key_passphrase": stored_passphrase.encode("utf-8") if stored_passphrase else None,
            "payload": None,
        }
        detail = f"fingerprint {leaf.fingerprint_sha256}" + (
            # the audit says which: a not-yet-valid certificate is not "expired"
            f"; stored although {'expired' if 'expired' in kept else 'not yet valid'} "
            "(allowed on purpose)"
            if kept
            else ""
        )
        return self._put_value(
            name, "certificate", environment, description, replace, columns, blobs, detail
        )

    def add_string(
        self,
        name: str,
        value: str,
        *,
        environment: str = DEFAULT_ENV,
        description: str | None = None,
        replace: bool = False,
    ) -> SecretInfo:
        """Any text (API key, token, CA bundle). PEM certificates inside are checked by pki."""
        check_name(name)
        check_name(environment, "environment")
        if not isinstance(value, str) or not value:
            raise ValidationError(
                f"The value of string secret '{name}' is empty.",
                hint="Put the value in the file given to --value-file.",
                code="empty_value",
            )
        if len(value) > MAX_STRING_VALUE or len(value.encode("utf-8")) > MAX_STRING_VALUE:
            # Whatever the way in (CLI, console, import, pull): a 1 GB value took 3 GB of
            # memory and ended in an InterfaceError (issue 11 item 5).
            raise ValidationError(
                f"The value of string secret '{name}' is longer than 1 MB, the limit.",
                hint="A string secret holds an API key, a token or a CA bundle.",
                code="value_too_long",
            )
        # A CA bundle is read here, once: listing and the expiry watch use these columns.
        details = cabundle.details_for(value, name)
        columns, blobs = payload_value(details, value.encode("utf-8"))
        return self._put_value(
            name, "string", environment, description, replace, columns, blobs, None
        )

    def add_oauth2(
        self,
        name: str,
        config: OAuth2Config,
        *,
        environment: str = DEFAULT_ENV,
        description: str | None = None,
        replace: bool = False,
    ) -> SecretInfo:
        check_name(name)
        check_name(environment, "environment")
        expected = {
            config.certificate_secret_id: "certificate",
            config.ca_bundle_secret_id: "string",
        }
        with self._vault.reading():
            for ref, kind in expected.items():
                if ref is not None:
                    self._check_reference(f"oauth2 secret '{name}'", ref, kind)
        columns, blobs = payload_value(config.to_dict(), config.to_json().encode("utf-8"))
        return self._put_value(
            name, "oauth2", environment, description, replace, columns, blobs, None
        )

    def _check_reference(self, who: str, ref: str, kind: str) -> None:
        row = self._vault.fetch("SELECT secret_type FROM secrets WHERE name = ?", (ref,))
        if not row:
            raise ValidationError(
                f"The {who} refers to the unknown secret '{ref}'.",
                hint="Add that secret first, or fix the name.",
                code="unknown_secret",
            )
        if row[0][0] != kind:
            raise ValidationError(
                f"The {who} needs '{ref}' to be a {kind} secret, but it is a {row[0][0]} secret.",
                code="wrong_secret_type",
            )

    def _put_value(
        self,
        name: str,
        secret_type: str,
        environment: str,
        description: str | None,
        replace: bool,
        columns: dict[str, Any],
        blobs: dict[str, Any],
        detail: str | None,
    ) -> SecretInfo:
        with self._vault.transaction() as conn:
            now = iso(clock.now())
            row = conn.execute(
                "SELECT id, secret_type FROM secrets WHERE name = ?", (name,)
            ).fetchone()
            created = row is None
            if created:
                secret_id = str(uuid.uuid4())
                conn.execute(
                    "INSERT INTO secrets (id, name, secret_type, description, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (secret_id, name, secret_type, description, now, now),
                )
                existing = None
            else:
                secret_id, have_type = row
                if have_type != secret_type:
                    raise Conflict(
                        f"Secret '{name}' already exists as a {have_type} secret, "
                        f"so it cannot hold a {secret_type} value.",
                        hint="Choose another name, or remove the existing secret first.",
                    )
                existing = conn.execute(
                    "SELECT id FROM secret_values WHERE secret_id = ? AND environment_name = ?",
                    (secret_id, environment),
                ).fetchone()
                if existing is not None and not replace:
                    raise Conflict(
                        f"Secret '{name}' already has a value for environment '{environment}'; "
                        "nothing was changed.",
                        hint="Replace it (--replace on the command line, R on the secret in the "
                        "console), or choose another environment.",
                    )
                if description is not None:
                    conn.execute(
                        "UPDATE secrets SET description = ? WHERE id = ?", (description, secret_id)
                    )
                conn.execute("UPDATE secrets SET updated_at = ? WHERE id = ?", (now, secret_id))
            names = list(columns)
            if existing is None:
                cursor = conn.execute(
                    "INSERT INTO secret_values (secret_id, environment_name, created_at, "
                    f"updated_at, {', '.join(names)}) VALUES (?, ?, ?, ?, "
                    f"{', '.join('?' * len(names))})",
                    (secret_id, environment, now, now, *columns.values()),
                )
                value_id = cursor.lastrowid
                conn.execute(
                    "INSERT INTO value_blobs (value_id, chain_pem, key_pem, key_passphrase, "
                    "payload) VALUES (?, ?, ?, ?, ?)",
                    (
                        value_id,
                        blobs["chain_pem"],
                        blobs["key_pem"],
                        blobs["key_passphrase"],
                        blobs["payload"],
                    ),
                )
            else:
                value_id = existing[0]
                assignments = ", ".join(f"{c} = ?" for c in names)
                conn.execute(
                    f"UPDATE secret_values SET updated_at = ?, {assignments} WHERE id = ?",
                    (now, *columns.values(), value_id),
                )
                conn.execute(
                    "UPDATE value_blobs SET chain_pem = ?, key_pem = ?, key_passphrase = ?, "
                    "payload = ? WHERE value_id = ?",
                    (
                        blobs["chain_pem"],
                        blobs["key_pem"],
                        blobs["key_passphrase"],
                        blobs["payload"],
                        value_id,
                    ),
                )
            if created:
                operation, what = "create", f"secret created with environment '{environment}'"
            elif existing is None:
                operation, what = "update", f"value added for environment '{environment}'"
            else:
                operation, what = "update", f"value replaced for environment '{environment}'"
            self._vault.trail.record(
                operation,
                secret_id=secret_id,
                secret_name=name,
                secret_type=secret_type,
                environment=environment,
                detail=what + (f"; {detail}" if detail else ""),
            )
            changes.store_secret_digest(conn, secret_id)
            infos = load_secrets(conn, " WHERE id = ?", (secret_id,))
        return infos[0]

    def all(self) -> list[SecretInfo]:
        """Every secret with its values' metadata; no blob is read or decrypted."""
        with self._vault.reading() as conn:
            return list_secrets_on(conn)

    def get(self, name: str) -> SecretInfo:
        with self._vault.reading() as conn:
            infos = load_secrets(conn, " WHERE name = ?", (name,))
        if not infos:
            raise self.not_found(name)
        return infos[0]

    def not_found(self, name: str) -> NotFound:
        return NotFound(
            f"There is no secret named {shown_name(name)}.",
            hint="knoxtui secret list shows the names in this vault.",
        )

    def set_status(
        self,
        name: str,
        status: str | None,
        *,
        until: datetime | None = None,
        detail: str | None = None,
    ) -> SecretInfo:
        """Lifecycle marks such as "retiring" (None clears it), with an optional grace-period
        end; audited as an update."""
        with self._vault.transaction() as conn:
            row = conn.execute(
                "SELECT id, secret_type FROM secrets WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                raise self.not_found(name)
            conn.execute(
                "UPDATE secrets SET status = ?, status_until = ?, updated_at = ? WHERE id = ?",
                (status, iso(until), iso(clock.now()), row[0]),
            )
            what = f"status set to {status or 'none'}"
            if until is not None:
                what += f" until {iso(until)}"
            self._vault.trail.record(
                "update",
                secret_id=row[0],
                secret_name=name,
                secret_type=row[1],
                detail=what + (f"; {detail}" if detail else ""),
            )
        return self.get(name)

    def status_dates(self) -> dict[str, datetime]:
        """Grace-period ends of secrets marked by set_status(..., until=...)."""
        return {
            name: parse_iso(until)
            for name, until in self._vault.fetch(
                "SELECT name, status_until FROM secrets WHERE status_until IS NOT NULL"
            )
        }

    def resolve(
        self, name: str, environment: str, *, purpose: str = "access", detail: str | None = None
    ) -> CertificateValue | str | OAuth2Config:
        """The value for `environment`, audited (with `detail`, never a value). Only a secret
        whose single value is `default` serves other environments; otherwise a missing
        environment is EnvironmentMissing."""
        if purpose not in RESOLVE_PURPOSES:
            raise UsageError(f"Unknown purpose '{purpose}'; use one of {RESOLVE_PURPOSES}.")
        with self._vault.transaction() as conn:
            row = conn.execute(
                "SELECT id, secret_type FROM secrets WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                raise self.not_found(name)
            secret_id, secret_type = row
            values = dict(
                conn.execute(
                    "SELECT environment_name, id FROM secret_values WHERE secret_id = ?",
                    (secret_id,),
                ).fetchall()
            )
            if environment in values:
                used = environment
            elif list(values) == [DEFAULT_ENV]:
                used = DEFAULT_ENV
            else:
                raise EnvironmentMissing(name, environment, list(values))
            chain_pem, key_pem, key_passphrase, payload = conn.execute(
                "SELECT chain_pem, key_pem, key_passphrase, payload FROM value_blobs "
                "WHERE value_id = ?",
                (values[used],),
            ).fetchone()
            self._vault.trail.record(
                purpose,
                secret_id=secret_id,
                secret_name=name,
                secret_type=secret_type,
                environment=environment,
                detail="; ".join(
                    part
                    for part in (
                        None if used == environment else f"served by the '{used}' value",
                        detail,
                    )
                    if part
                )
                or None,
            )
        if secret_type == "certificate":
            return CertificateValue(
                chain_pem=bytes(chain_pem),
                key_pem=bytes(key_pem) if key_pem is not None else None,
                key_passphrase=bytes(key_passphrase).decode("utf-8") if key_passphrase else None,
            )
        if secret_type == "oauth2":
            return OAuth2Config.from_dict(json.loads(bytes(payload).decode("utf-8")))
        return bytes(payload).decode("utf-8")

    def remove_value(self, name: str, environment: str, *, force: bool = False) -> None:
        """Remove one environment's value; removing the last value removes the secret."""
        with self._vault.transaction() as conn:
            info = self.get(name)
            if environment not in info.environments:
                raise NotFound(
                    f"Secret '{name}' has no value for environment '{environment}' "
                    f"(it has: {', '.join(info.environments) or 'none'}).",
                )
            if info.environments == (environment,):
                self.remove(name, force=force)
                return
            conn.execute(
                "DELETE FROM secret_values WHERE secret_id = ? AND environment_name = ?",
                (info.id, environment),
            )
            conn.execute(
                "UPDATE secrets SET updated_at = ? WHERE id = ?", (iso(clock.now()), info.id)
            )
            changes.store_secret_digest(conn, info.id)
            self._vault.trail.record(
                "delete",
                secret_id=info.id,
                secret_name=name,
                secret_type=info.secret_type,
                environment=environment,
                detail=f"value removed for environment '{environment}'",
            )

    def _users_of(self, name: str) -> tuple[list[str], list[str]]:
        """(routes, oauth2 secrets) that refer to secret `name`."""
        routes = self._vault.routes.using(name)
        oauth = []
        for secret_name, details in self._vault.fetch(
            "SELECT s.name, v.details FROM secrets s JOIN secret_values v ON v.secret_id = s.id "
            "WHERE s.secret_type = 'oauth2'"
        ):
            data = json.loads(details or "{}")
            if name in (data.get("certificate_secret_id"), data.get("ca_bundle_secret_id")):
                oauth.append(secret_name)
        return routes, sorted(set(oauth))

    def remove(self, name: str, *, force: bool = False) -> None:
        """Remove a secret and all its values (pages zeroed by secure_delete). Refused while a
        route or oauth2 secret uses it, unless force."""
        with self._vault.transaction() as conn:
            row = conn.execute(
                "SELECT id, secret_type FROM secrets WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                raise self.not_found(name)
            routes, oauth = self._users_of(name)
            if (routes or oauth) and not force:
                users = []
                if routes:
                    users.append("route(s) " + ", ".join(routes))
                if oauth:
                    users.append("oauth2 secret(s) " + ", ".join(oauth))
                raise Conflict(
                    f"Secret '{name}' is used by {' and '.join(users)}; nothing was removed.",
                    hint="Point those at another secret first, or remove it anyway (--force on the "
                    "command line, Delete and confirm in the console); they will then fail with "
                    "an unknown secret.",
                )
            conn.execute("DELETE FROM secrets WHERE id = ?", (row[0],))
            forced = " (forced; still referenced)" if routes or oauth else ""
            self._vault.trail.record(
                "delete",
                secret_id=row[0],
                secret_name=name,
                secret_type=row[1],
                detail="secret removed" + forced,
            )

    def rename(self, old: str, new: str) -> None:
        """Rename, rewriting every route and oauth2 reference in the same transaction."""
        check_name(new)
        with self._vault.transaction() as conn:
            row = conn.execute(
                "SELECT id, secret_type FROM secrets WHERE name = ?", (old,)
            ).fetchone()
            if row is None:
                raise self.not_found(old)
            if conn.execute("SELECT 1 FROM secrets WHERE name = ?", (new,)).fetchone():
                raise Conflict(f"A secret named '{new}' already exists; nothing was renamed.")
            now = iso(clock.now())
            conn.execute(
                "UPDATE secrets SET name = ?, updated_at = ? WHERE id = ?", (new, now, row[0])
            )
            self._vault.routes.rename_references(conn, old, new, now)
            oauth_rows = conn.execute(
                "SELECT v.id, v.secret_id, v.details, b.payload FROM secret_values v "
                "JOIN secrets s ON s.id = v.secret_id JOIN value_blobs b ON b.value_id = v.id "
                "WHERE s.secret_type = 'oauth2'"
            ).fetchall()
            repointed: set[str] = set()
            for value_id, oauth_id, details, payload in oauth_rows:
                meta = json.loads(details or "{}")
                if old not in (meta.get("certificate_secret_id"), meta.get("ca_bundle_secret_id")):
                    continue
                full = json.loads(bytes(payload).decode("utf-8"))
                for key in ("certificate_secret_id", "ca_bundle_secret_id"):
                    if meta.get(key) == old:
                        meta[key] = new
                        full[key] = new
                conn.execute(
                    "UPDATE secret_values SET details = ? WHERE id = ?",
                    (json.dumps(meta), value_id),
                )
                conn.execute(
                    "UPDATE value_blobs SET payload = ? WHERE value_id = ?",
                    (json.dumps(full, sort_keys=True).encode("utf-8"), value_id),
                )
                repointed.add(oauth_id)
            # Their content changed (the reference's name), so their digest and write time too.
            for oauth_id in sorted(repointed):
                conn.execute("UPDATE secrets SET updated_at = ? WHERE id = ?", (now, oauth_id))
                changes.store_secret_digest(conn, oauth_id)
            self._vault.trail.record(
                "update",
                secret_id=row[0],
                secret_name=new,
                secret_type=row[1],
                detail=f"renamed from '{old}'",
            )
