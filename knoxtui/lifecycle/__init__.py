"""Certificate lifecycle on top of the vault (issue 6): expiry watch, CSR and renewal,
rotation, export and the inventory report. Headless: values in, values out, KnoxErrors raised;
the CLI (knoxtui.commands.lifecycle) and the TUI call these functions."""

from knoxtui.lifecycle.expiry import ExpiryReport, ExpiryRow, expiry_report
from knoxtui.lifecycle.export import ExportResult, export_secret
from knoxtui.lifecycle.fit import fitting_stored_certificates
from knoxtui.lifecycle.inventory import InventoryReport, inventory_report, render
from knoxtui.lifecycle.renewal import AttachResult, attach_certificate, new_signing_request
from knoxtui.lifecycle.rotation import (
    RotationPlan,
    RotationResult,
    check_retire,
    plan_rotation,
    retire,
    rotate,
)

__all__ = [
    "AttachResult",
    "ExpiryReport",
    "ExpiryRow",
    "ExportResult",
    "InventoryReport",
    "RotationPlan",
    "RotationResult",
    "attach_certificate",
    "check_retire",
    "expiry_report",
    "export_secret",
    "fitting_stored_certificates",
    "inventory_report",
    "new_signing_request",
    "plan_rotation",
    "render",
    "retire",
    "rotate",
]
