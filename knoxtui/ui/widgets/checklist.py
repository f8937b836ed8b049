"""The live-validation checklist of the import screen: one line per question about the input,
green/amber/red with the finding's message and hint (finding codes of DESIGN.md §3)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from knoxtui.safetext import visible

MARKS = {"ok": "✔", "error": "✘", "warning": "▲", "pending": "·", "info": "•"}


@dataclass
class CheckLine:
    topic: str
    state: str  # ok | error | warning | pending | info
    title: str
    detail: str = ""
    hint: str | None = None
    codes: tuple[str, ...] = field(default=())


# Which finding codes belong to which line; codes outside this map get a line of their own.
TOPICS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("format", "Format recognised", ("unsupported_format", "corrupt")),
    ("certificate", "Certificate found", ("no_certificate",)),
    ("key", "Private key found", ("missing_private_key", "unencrypted_key", "weak_key")),
    ("match", "Key matches the certificate", ("key_mismatch",)),
    (
        "passphrase",
        "Key passphrase",
        ("passphrase_required", "wrong_passphrase", "unsupported_key_encryption"),
    ),
    ("expiry", "Expiry", ("expired", "not_yet_valid", "expiry_urgent", "expiry_warning")),
    ("client_auth", "clientAuth usage", ("no_client_auth_eku",)),
    ("chain", "Chain", ("chain_incomplete", "chain_order", "weak_signature")),
)


_COMMAND_LINE_PARTS = (
    # "--key F on the command line, or open the secret and press R in the console" -> "open the
    # secret and press R" (a short console half, like a bare key, keeps both ways)
    (
        re.compile(
            r"--[a-z-]+(?: [A-Z]+)? on the command line, (?:or )?"
            r"((?:open|the|press|Delete)[^.;()]*?) in the console"
        ),
        r"\1",
    ),
    (re.compile(r"\(FILE with --key F, or paste both\)"), "(paste both, or name the key file)"),
    (re.compile(r" \(--key F, or the key file field\)"), " in the Separate key file field"),
    # the request's fixes: the route editor and the environment are the console's ways
    (re.compile(r"; --no-proxy goes direct"), ""),
    (re.compile(r", --(?:no-)?proxy(?=[,)])"), ""),
    (re.compile(r" \(or --timeout\)"), ""),
    (re.compile(r"a longer --timeout\b"), "a longer timeout_seconds"),
    # a Java keystore: the entry's own password and the choice of entry have fields here
    (re.compile(r"\(--entry-passphrase-file F"), "(in the Entry password field"),
    (re.compile(r"Name it with --alias ALIAS"), "Choose it in the Keystore entry list"),
)


def screen_hint(hint: str | None) -> str | None:
    """A finding's hint in this screen's words: the command-line flag for the passphrase is the
    Key passphrase field here, and the command line's half of a two-way hint is left out."""
    if hint is None:
        return None
    hint = hint.replace(
        "(--key-passphrase-file F, or the passphrase field)", "in the Key passphrase field"
    )
    for pattern, replacement in _COMMAND_LINE_PARTS:
        hint = pattern.sub(replacement, hint)
    return hint


def console_hint(hint: str | None) -> str | None:
    """A domain hint on a console screen (domain hints name the command-line and console ways)."""
    return screen_hint(hint)


def _from_findings(line: CheckLine, findings: list[Any]) -> CheckLine:
    if not findings:
        return line
    worst = "error" if any(str(f.severity) == "error" for f in findings) else "warning"
    if all(str(f.severity) == "info" for f in findings):
        worst = "info"
    first = (
        next(f for f in findings if str(f.severity) == worst) if worst != "info" else findings[0]
    )
    others = [f.message for f in findings if f is not first]
    detail = first.message + ("".join(f"\n{m}" for m in others) if others else "")
    return CheckLine(
        line.topic,
        worst,
        line.title,
        detail,
        screen_hint(first.hint),
        tuple(f.code for f in findings),
    )


KEY_LOCKED_CODES = frozenset(
    {"passphrase_required", "wrong_passphrase", "unsupported_key_encryption"}
)


def _chain_words(chain: Any) -> str:
    """Intermediates counted as such; a self-signed root is named apart (not needed in the
    chain a client sends, the server has it)."""
    certificates = list(chain)
    roots = [c for c in certificates if c.subject == c.issuer]
    intermediates = len(certificates) - len(roots)
    parts = []
    if intermediates:
        parts.append(f"{intermediates} intermediate{'s' if intermediates > 1 else ''}, in order")
    if roots:
        parts.append("the root CA (not needed in the chain; the server has it)")
    return " + ".join(parts) if parts else "leaf only"


def lines_for_bundle(bundle: Any) -> list[CheckLine]:
    """Checklist lines for a `knoxtui.pki.CertificateBundle`."""
    by_code: dict[str, list[Any]] = {}
    for item in bundle.findings:
        by_code.setdefault(item.code, []).append(item)
    leaf = bundle.leaf
    fmt = bundle.format
    lines: list[CheckLine] = []
    claimed: set[str] = set()
    for topic, title, codes in TOPICS:
        claimed.update(codes)
        found = [f for code in codes for f in by_code.get(code, [])]
        line = CheckLine(topic, "pending", title)
        if topic == "format":
            if fmt != "unknown":
                line = CheckLine(topic, "ok", title, fmt.upper())
        elif topic == "certificate":
            if leaf is not None:
                extra = f" + {len(bundle.chain)} in chain" if bundle.chain else ""
                line = CheckLine(topic, "ok", title, f"{leaf.subject_cn or leaf.subject}{extra}")
        elif topic == "key":
            if bundle.private_key is not None:
                size = f"-{leaf.key_size}" if leaf is not None and leaf.key_size else ""
                kind = (leaf.key_type.upper() if leaf is not None else "private") + size
                line = CheckLine(topic, "ok", title, f"{kind} key")
            elif bundle.encrypted_key or by_code.keys() & KEY_LOCKED_CODES:
                # The key is there, only locked: say so, not "no key given yet".
                found_locked = "encrypted key found; needs its passphrase"
                line = CheckLine(topic, "pending", title, found_locked)
            else:
                line = CheckLine(topic, "pending", title, "no key given yet")
        elif topic == "match":
            if bundle.key_matches is True:
                line = CheckLine(topic, "ok", title, "the key belongs to this certificate")
        elif topic == "passphrase":
            if bundle.encrypted_key and bundle.private_key is not None:
                line = CheckLine(topic, "ok", title, "encrypted key; passphrase correct")
            elif bundle.private_key is not None:
                line = CheckLine(topic, "info", title, "key not encrypted")
        elif topic == "expiry":
            if leaf is not None:
                days = leaf.days_remaining(bundle.now)
                line = CheckLine(
                    topic,
                    "ok",
                    title,
                    f"valid until {leaf.valid_until:%Y-%m-%d} ({days} days left)",
                )
        elif topic == "client_auth":
            if leaf is not None:
                line = CheckLine(topic, "ok", title, "allowed for TLS client authentication")
        elif topic == "chain" and leaf is not None:
            line = CheckLine(topic, "ok", title, _chain_words(bundle.chain))
        lines.append(_from_findings(line, found))
    for code, items in by_code.items():
        if code not in claimed:
            lines.append(_from_findings(CheckLine(code, "info", code.replace("_", " ")), items))
    return lines


class Checklist(VerticalScroll):
    """Renders `CheckLine`s; `codes` lists every finding code shown (tests read it)."""

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[CheckLine] = []

    @property
    def codes(self) -> set[str]:
        return {code for line in self.lines for code in line.codes}

    def state_of(self, topic: str) -> str | None:
        for line in self.lines:
            if line.topic == topic:
                return line.state
        return None

    def compose(self) -> ComposeResult:
        yield Static("Paste a PEM block or choose a file; checks run as you type.", id="check-idle")

    async def show(self, lines: list[CheckLine]) -> None:
        self.lines = lines
        await self.remove_children()
        widgets = []
        for line in lines:
            text = Text()
            text.append(f"{MARKS[line.state]} ", style="bold")
            text.append(visible(line.title), style="bold")
            if line.detail:
                first, *rest = visible(line.detail, multiline=True).split("\n")
                text.append(f"  {first}")
                for more in rest:
                    text.append(f"\n    {more}")
            if line.hint and line.state in ("error", "warning"):
                text.append(f"\n    → {visible(line.hint, multiline=True)}", style="italic")
            widget = Static(text, classes=f"check check-{line.state}", id=f"check-{line.topic}")
            widgets.append(widget)
        if not widgets:
            widgets.append(Static("Nothing to check yet.", id="check-idle"))
        await self.mount_all(widgets)

    async def show_message(self, message: str, state: str = "pending") -> None:
        await self.show([CheckLine("input", state, message)])
