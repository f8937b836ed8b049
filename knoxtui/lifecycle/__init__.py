"""Certificate lifecycle on top of the vault (issue 6): expiry watch, CSR and renewal,
rotation, export and the inventory report. Headless: values in, values out, KnoxErrors raised;
the CLI (knoxtui.commands.lifecycle) and the TUI call these functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from knoxtui.lazy import exports

if TYPE_CHECKING:
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

# Submodules load on first use (PEP 562): a command imports only what it touches, so
# `knoxtui secret list` never pays for what it does not use. The names stay typed for mypy.
_EXPORTS = {
    "ExpiryReport": "knoxtui.lifecycle.expiry",
    "ExpiryRow": "knoxtui.lifecycle.expiry",
    "expiry_report": "knoxtui.lifecycle.expiry",
    "ExportResult": "knoxtui.lifecycle.export",
    "export_secret": "knoxtui.lifecycle.export",
    "fitting_stored_certificates": "knoxtui.lifecycle.fit",
    "InventoryReport": "knoxtui.lifecycle.inventory",
    "inventory_report": "knoxtui.lifecycle.inventory",
    "render": "knoxtui.lifecycle.inventory",
    "AttachResult": "knoxtui.lifecycle.renewal",
    "attach_certificate": "knoxtui.lifecycle.renewal",
    "new_signing_request": "knoxtui.lifecycle.renewal",
    "RotationPlan": "knoxtui.lifecycle.rotation",
    "RotationResult": "knoxtui.lifecycle.rotation",
    "check_retire": "knoxtui.lifecycle.rotation",
    "plan_rotation": "knoxtui.lifecycle.rotation",
    "retire": "knoxtui.lifecycle.rotation",
    "rotate": "knoxtui.lifecycle.rotation",
}


__getattr__ = exports(__name__, _EXPORTS, globals())


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
