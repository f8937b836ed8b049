"""Certificate lifecycle in the TUI (issue 6): renew (new key + CSR), attach the issued
certificate, rotate routes (with a rehearsal of OLD vs NEW), retire, export, inventory report.

One module per dialog; `base` holds the shared modal. Each modal calls the headless
`knoxtui.lifecycle` API; key generation and network rehearsals run in thread workers that post a
message back to their own modal."""

from knoxtui.ui.screens.lifecycle.attach import AttachModal
from knoxtui.ui.screens.lifecycle.base import LifecycleModal
from knoxtui.ui.screens.lifecycle.export import EXPORT_FORMATS, ExportModal
from knoxtui.ui.screens.lifecycle.renew import KEY_TYPES, RenewModal
from knoxtui.ui.screens.lifecycle.report import REPORT_FORMATS, ReportModal
from knoxtui.ui.screens.lifecycle.retire import retire_flow
from knoxtui.ui.screens.lifecycle.rotate import RotateModal

__all__ = [
    "EXPORT_FORMATS",
    "KEY_TYPES",
    "REPORT_FORMATS",
    "AttachModal",
    "ExportModal",
    "LifecycleModal",
    "RenewModal",
    "ReportModal",
    "RotateModal",
    "retire_flow",
]
