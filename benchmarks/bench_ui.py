"""UI: start to the unlock screen, and unlock to an interactive inventory of 10,000 certificates,
next to a bare Textual app with a DataTable holding the same rows, measured in the same run.

- first paint: a whole headless process until the unlock screen is up, vs a bare Textual app with
  a 100-row DataTable (goal <= 1.2x);
- unlock -> interactive inventory of 10,000 certificate values (the vault already open; its key
  derivation is reported on its own line) vs pushing a screen with a DataTable of the same 10,000
  rows and pressing one key (goal <= 0.5x);
- one filter keystroke at 10,000 rows, until the screen is redrawn (goal < 50 ms), next to a
  keystroke in a bare Input (the Pilot's own cost);
- peak memory (VmHWM, the resident high-water mark) of a process that shows the 10,000-row
  inventory (goal < 200 MB).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import row

COUNT = 10_000
CHEAP_KDF = 64
PASSPHRASE = "bench ui passphrase"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SIZE = (140, 42)

FIRST_PAINT_OURS = """
import asyncio, sys
from pathlib import Path
from knoxtui.ui.app import make_app
from knoxtui.ui.screens.unlock import UnlockScreen

async def main():
    app = make_app(Path(sys.argv[1]), remember_theme=False)
    async with app.run_test(size=(140, 42)) as pilot:
        while not isinstance(app.screen, UnlockScreen) or not app.screen.query("#passphrase"):
            await pilot.pause(0.001)
asyncio.run(main())
"""

FIRST_PAINT_BARE = """
import asyncio
from textual.app import App
from textual.widgets import DataTable

class Bare(App):
    def compose(self):
        yield DataTable()
    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns(*"abcdefgh")
        table.add_rows([[f"{c}{i}" for c in "abcdefgh"] for i in range(100)])

async def main():
    async with Bare().run_test(size=(140, 42)) as pilot:
        await pilot.pause()
asyncio.run(main())
"""

PEAK_OURS = """
import asyncio, sys

def peak_kb():
    # VmHWM belongs to this program's memory map; ru_maxrss would carry the parent's peak over
    # from fork.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
from pathlib import Path
from knoxtui.ui.app import make_app
from knoxtui.ui.screens.inventory import InventoryScreen

async def main():
    app = make_app(Path(sys.argv[1]), kdf_iter=int(sys.argv[3]), remember_theme=False)
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.press(*sys.argv[2], "enter")
        while not (isinstance(app.screen, InventoryScreen) and app.screen.query("#inventory-table")
                   and app.screen.table.row_count):
            await pilot.pause(0.01)
        await pilot.press("down")
    print(peak_kb())
asyncio.run(main())
"""

PEAK_BARE = """
import asyncio, json, sys

def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
from textual.app import App
from textual.widgets import DataTable
rows = json.load(open(sys.argv[1]))

class Bare(App):
    def compose(self):
        yield DataTable()
    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns(*[f"c{i}" for i in range(8)])
        table.add_rows(rows)

async def main():
    async with Bare().run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await pilot.press("down")
    print(peak_kb())
asyncio.run(main())
"""


def _process_seconds(code: str, *args: str, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _process_peak_mb(code: str, *args: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    return int(out.strip().splitlines()[-1]) / 1024


def _build_vault(path: Path) -> None:
    from benchmarks.bench_vault import _certificates, _fill
    from knoxtui import clock
    from knoxtui.pki import load_bundle
    from knoxtui.vault import Vault

    pems, key_pem = _certificates(COUNT)
    bundles = [load_bundle(pem, key_data=key_pem, now=NOW, require_key=True) for pem in pems]
    with clock.frozen(NOW):
        vault = Vault.create(path, PASSPHRASE, kdf_iter=CHEAP_KDF)
        _fill(vault, bundles, "bank")
        vault.close()


def _inventory_ready(app: object, screen_type: type) -> bool:
    screen = app.screen  # type: ignore[attr-defined]
    return (
        isinstance(screen, screen_type)
        and bool(screen.query("#inventory-table"))
        and bool(screen.table.row_count)
    )


async def _inventory_seconds(path: Path) -> tuple[float, list[tuple[str, ...]]]:
    """Unlock (vault already open) -> inventory shown and a key handled."""
    from knoxtui.config import Config
    from knoxtui.ui.app import make_app
    from knoxtui.ui.screens.inventory import InventoryScreen
    from knoxtui.vault import Vault

    app = make_app(path, kdf_iter=CHEAP_KDF, clock=NOW, config=Config(), remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        vault = Vault.open(path, PASSPHRASE, kdf_iter=CHEAP_KDF)
        start = time.perf_counter()
        app.vault_opened(vault)
        while not _inventory_ready(app, InventoryScreen):
            await pilot.pause(0)
        await pilot.pause()
        await pilot.press("down")
        elapsed = time.perf_counter() - start
        rows = [record.cells for record in app.screen.table.records]
    return elapsed, rows


async def _bare_table_seconds(rows: list[tuple[str, ...]]) -> float:
    from textual.app import App, ComposeResult
    from textual.screen import Screen
    from textual.widgets import DataTable, Static

    class TableScreen(Screen[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns(*[f"c{i}" for i in range(len(rows[0]))])
            table.add_rows(rows)
            table.focus()

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("bare")

    app = Bare()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        await app.push_screen(TableScreen())
        await pilot.pause()
        await pilot.press("down")
        return time.perf_counter() - start


async def _filter_keystrokes(path: Path) -> tuple[list[float], list[float], list[float]]:
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    from knoxtui.config import Config
    from knoxtui.ui.app import make_app
    from knoxtui.ui.screens.inventory import InventoryScreen
    from knoxtui.vault import Vault

    ours: list[float] = []
    app = make_app(path, kdf_iter=CHEAP_KDF, clock=NOW, config=Config(), remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.vault_opened(Vault.open(path, PASSPHRASE, kdf_iter=CHEAP_KDF))
        while not _inventory_ready(app, InventoryScreen):
            await pilot.pause(0)
        screen = app.screen
        table = screen.table
        direct: list[float] = []
        for _round in range(5):
            for length in range(1, 10):
                start = time.perf_counter()
                table.set_filter("bank-0123"[:length])
                screen._update_summary()
                for y in range(table.size.height):
                    table.render_line(y)
                direct.append(time.perf_counter() - start)
        table.set_filter("")
        await pilot.press("slash")
        for _round in range(3):
            for key in "bank-0123":
                start = time.perf_counter()
                await pilot.press(key)
                ours.append(time.perf_counter() - start)
            for _ in range(9):
                await pilot.press("backspace")

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Input()

    bare: list[float] = []
    async with Bare().run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _round in range(3):
            for key in "bank-0123":
                start = time.perf_counter()
                await pilot.press(key)
                bare.append(time.perf_counter() - start)
    return ours, bare, direct


def main() -> None:
    import json

    from knoxtui.vault import Vault

    with tempfile.TemporaryDirectory(prefix="knoxtui-bench-ui-") as scratch:
        folder = Path(scratch)
        vault_path = folder / "bench.knox"
        print(f"  making a vault of {COUNT:,} certificates ...", flush=True)
        _build_vault(vault_path)
        kdf_path = folder / "kdf.knox"
        Vault.create(kdf_path, PASSPHRASE).close()

        # Interleaved, so a busy neighbour on the machine weighs on both sides alike.
        bare_times, our_times = [], []
        for _ in range(7):
            bare_times.append(_process_seconds(FIRST_PAINT_BARE, repeat=1))
            our_times.append(_process_seconds(FIRST_PAINT_OURS, str(kdf_path), repeat=1))
        paint_bare, paint_ours = statistics.median(bare_times), statistics.median(our_times)
        print(row("first paint: bare Textual app, DataTable of 100 (process)", paint_bare))
        print(
            row(
                "first paint: knoxtui to the unlock screen (process)",
                paint_ours,
                paint_bare,
                "goal <= 1.20x",
            )
        )

        start = time.perf_counter()
        Vault.open(kdf_path, PASSPHRASE).close()
        print(
            row(
                "key derivation: open with SQLCipher's default KDF (apart)",
                time.perf_counter() - start,
            )
        )

        bare_runs, our_runs = [], []
        rows: list[tuple[str, ...]] = []
        for _ in range(3):
            elapsed, rows = asyncio.run(_inventory_seconds(vault_path))
            our_runs.append(elapsed)
            bare_runs.append(asyncio.run(_bare_table_seconds(rows)))
        bare_t, our_t = statistics.median(bare_runs), statistics.median(our_runs)
        print(row(f"bare DataTable of the same {len(rows):,} rows, shown + 1 key", bare_t))
        print(
            row(f"unlock -> interactive inventory of {len(rows):,}", our_t, bare_t, "goal <= 0.50x")
        )

        ours, bare, direct = asyncio.run(_filter_keystrokes(vault_path))
        base = statistics.median(bare)
        print(
            row(
                f"filter at {COUNT:,} rows + summary + redraw of the table (median)",
                statistics.median(direct),
                None,
                "goal < 50 ms",
            )
        )
        print(row("  the same, slowest of 45", max(direct), None, "goal < 50 ms"))
        print(row("keystroke in a bare Input through the Pilot (round trip)", base))
        print(row("filter keystroke through the Pilot (median)", statistics.median(ours), base))

        rows_file = folder / "rows.json"
        rows_file.write_text(json.dumps([list(r) for r in rows]))
        peak_bare = _process_peak_mb(PEAK_BARE, str(rows_file))
        peak_ours = _process_peak_mb(PEAK_OURS, str(vault_path), PASSPHRASE, str(CHEAP_KDF))
        print(f"  {'peak memory: bare DataTable of the same rows (VmHWM)':<58}{peak_bare:8.1f} MB")
        print(
            f"  {'peak memory: knoxtui with the 10,000-row inventory':<58}{peak_ours:8.1f} MB"
            f"  {peak_ours / peak_bare:6.2f}x  goal < 200 MB"
        )


if __name__ == "__main__":
    main()
