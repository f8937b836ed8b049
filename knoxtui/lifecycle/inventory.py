"""The inventory report for auditors (PCI DSS 3.6/4.0 key management, SOC 2 CC6/CC8 expect expiry
monitoring and change tracking): every certificate's and CA bundle's metadata, never a value, as
CSV, JSON or Markdown. A CA bundle's row speaks of its first certificate to expire."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from knoxtui import clock
from knoxtui.errors import UsageError
from knoxtui.lifecycle.expiry import STATUS_ORDER, expiry_report
from knoxtui.pki.expiry import ExpiryThresholds
from knoxtui.safetext import json_text, visible

if TYPE_CHECKING:
    from knoxtui.vault import Vault

REPORT_FORMATS = ("csv", "json", "md")

COLUMNS = (
    "secret",
    "environment",
    "status",
    "days_remaining",
    "valid_from",
    "valid_until",
    "subject",
    "issuer",
    "serial",
    "fingerprint_sha256",
    "key_type",
    "key_size",
    "san",
    "client_auth_eku",
    "has_private_key",
    "encrypted_key",
    "organization_identifier",
    "psd2_roles",
    "routes",
    "breaks_environments",
    "secret_status",
    "grace_until",
    "created_at",
    "updated_at",
    "kind",
    "certificates",
)
# The Markdown table stays readable: the rest is in CSV/JSON.
MD_COLUMNS = (
    "secret",
    "environment",
    "status",
    "days_remaining",
    "valid_until",
    "subject",
    "issuer",
    "key_type",
    "routes",
    "secret_status",
)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class InventoryReport:
    generated_at: datetime
    vault: str
    thresholds: ExpiryThresholds
    rows: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        counts = {str(status): 0 for status in STATUS_ORDER}
        for row in self.rows:
            counts[row["status"]] += 1
        return {
            "generated_at": _iso(self.generated_at),
            "vault": self.vault,
            "warning_days": self.thresholds.warning_days,
            "urgent_days": self.thresholds.urgent_days,
            "counts": counts,
            "certificates": list(self.rows),
        }


def inventory_report(
    vault: Vault, *, now: datetime | None = None, thresholds: ExpiryThresholds | None = None
) -> InventoryReport:
    moment = now or clock.now()
    listing = vault.list_secrets()
    expiry = expiry_report(vault, now=moment, thresholds=thresholds, secrets=listing)
    secrets = {secret.name: secret for secret in listing}
    rows: list[dict[str, Any]] = []
    for row in expiry.rows:
        value = secrets[row.secret].value(row.environment)
        meta = value.certificate if value is not None else None
        rows.append(
            {
                "secret": row.secret,
                "environment": row.environment,
                "status": str(row.status),
                "days_remaining": row.days_remaining,
                "valid_from": _iso(row.valid_from),
                "valid_until": _iso(row.valid_until),
                "subject": row.subject,
                "issuer": row.issuer,
                "serial": row.serial,
                "fingerprint_sha256": row.fingerprint_sha256,
                "key_type": meta.key_type if meta else None,
                "key_size": meta.key_size if meta else None,
                "san": list(meta.san) if meta else [],
                "client_auth_eku": meta.client_auth_eku if meta else None,
                "has_private_key": meta.has_private_key if meta else None,
                "encrypted_key": meta.encrypted_key if meta else None,
                "organization_identifier": meta.organization_identifier if meta else None,
                "psd2_roles": list(meta.psd2_roles) if meta else [],
                "routes": list(row.routes),
                "breaks_environments": list(row.breaks_environments),
                "secret_status": row.secret_status,
                "grace_until": _iso(row.grace_until),
                "created_at": _iso(value.created_at) if value else None,
                "updated_at": _iso(value.updated_at) if value else None,
                "kind": row.kind,
                "certificates": row.certificates,
            }
        )
    return InventoryReport(
        generated_at=moment, vault=str(vault.path), thresholds=expiry.thresholds, rows=tuple(rows)
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value)
    return str(value)


def _csv_safe(text: str) -> str:
    # A spreadsheet runs cells starting with = + - @ as formulas (CSV injection); subjects are
    # attacker-influenced text, so such cells are prefixed with a quote.
    if text and text[0] in "=+-@\t\r" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render_csv(report: InventoryReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in report.rows:
        writer.writerow([_csv_safe(visible(_cell(row[column]))) for column in COLUMNS])
    return out.getvalue()


def _md_escape(text: str) -> str:
    text = visible(text)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: InventoryReport) -> str:
    data = report.to_dict()
    counts = ", ".join(f"{status}: {count}" for status, count in data["counts"].items())
    lines = [
        "# Certificate inventory",
        "",
        f"- Generated: {data['generated_at']}",
        f"- Vault: `{_md_escape(report.vault)}`",
        f"- Thresholds: warning at {report.thresholds.warning_days} days, "
        f"urgent at {report.thresholds.urgent_days} days",
        f"- Certificates and CA bundles: {len(report.rows)} ({counts})",
        "",
        "| " + " | ".join(MD_COLUMNS) + " |",
        "|" + "|".join("---" for _ in MD_COLUMNS) + "|",
    ]
    for row in report.rows:
        lines.append("| " + " | ".join(_md_escape(_cell(row[c])) for c in MD_COLUMNS) + " |")
    if not report.rows:
        lines.append("| " + " | ".join("" for _ in MD_COLUMNS) + " |")
    lines += ["", "Metadata only: no certificate, key or passphrase is included.", ""]
    return "\n".join(lines)


def render_json(report: InventoryReport) -> str:
    return json_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False)) + "\n"


def render(report: InventoryReport, report_format: str) -> str:
    if report_format == "csv":
        return render_csv(report)
    if report_format == "json":
        return render_json(report)
    if report_format == "md":
        return render_markdown(report)
    raise UsageError(
        f"Unknown report format '{report_format}'.",
        hint=f"Use one of: {', '.join(REPORT_FORMATS)}.",
    )
