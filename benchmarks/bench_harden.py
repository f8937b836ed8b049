"""Issue 11: what the hardening costs and what it stops, against references in the same run.

- `audit --sql` with a value-building expression: raw sqlcipher3 (the reference) runs it to the
  end; knoxtui refuses it at its 1 MB cap.
- An audited write with the audit anchor kept outside the file, against the same write with the
  anchor step left out (the reference), on a log of 20,000 rows.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmarks.harness import median_seconds, row

PASSPHRASE = "bench-harden"
KDF = 64
LOG_ROWS = 20_000
BIG = "SELECT length(replace(replace(printf('%.*c', 20000000, 'x'), 'x', 'xx'), 'x', 'xx'))"


def main() -> None:
    import sqlcipher3

    from knoxtui.errors import UsageError
    from knoxtui.vault import Vault, anchor

    with tempfile.TemporaryDirectory(prefix="knoxtui-bench-") as scratch:
        os.environ["KNOXTUI_HOME"] = str(Path(scratch) / "home")
        path = Path(scratch) / "h.knox"
        vault = Vault.create(path, PASSPHRASE, kdf_iter=KDF)
        vault.add_string("k", "tok-bench")
        raw = sqlcipher3.connect(str(path))
        raw.execute(f"PRAGMA key = '{PASSPHRASE}'")
        raw.execute(f"PRAGMA kdf_iter = {KDF}")

        def reference_query() -> None:
            raw.execute(BIG).fetchone()

        def capped_query() -> None:
            try:
                vault.query(BIG)
            except UsageError:
                return
            raise AssertionError("the cap did not hold")

        t_raw = median_seconds(reference_query, repeat=3)
        t_cap = median_seconds(capped_query, repeat=5)
        print(row("--sql: 80 MB replace(), raw sqlcipher3 (reference)", t_raw))
        print(row("--sql: the same in knoxtui (refused at 1 MB)", t_cap, t_raw, "goal < 0.01x"))
        raw.close()

        with vault.batch():
            for _ in range(LOG_ROWS):
                with vault.transaction():
                    vault.trail.record("access", secret_name="k", detail="bench")

        def audited_read() -> None:
            vault.resolve("k", "default")

        real = anchor.advance
        anchor.advance = lambda conn, vault_path: None  # type: ignore[assignment]
        try:
            t_plain = median_seconds(audited_read, repeat=5, number=50)
        finally:
            anchor.advance = real  # type: ignore[assignment]
        t_anchor = median_seconds(audited_read, repeat=5, number=50)
        print(row(f"audited read, {LOG_ROWS:,} log rows, no anchor (reference)", t_plain))
        label = "audited read with the anchor outside the file"
        print(row(label, t_anchor, t_plain, "goal < 2x (under 1 ms a write)"))
        vault.close()
