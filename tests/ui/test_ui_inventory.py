"""The inventory: rows per environment value, coloured by status, filter as you type, sort."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from ui_helpers import app_for, unlock, wait_for

from knoxtui.ui.screens.detail import DetailScreen
from knoxtui.ui.widgets.record_table import Column, Record, RecordTable


async def test_rows_statuses_and_summary(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        rows = {record.key: record for record in table.records}
        assert len(rows) == 11
        assert rows[("bank-client", "production")].tone == "valid"
        assert rows[("bank-client", "sandbox")].tone == "valid"
        assert rows[("hmrc-mtd", "production")].tone == "warning"
        assert rows[("payments-gateway", "production")].tone == "urgent"
        assert rows[("legacy-partner", "default")].tone == "expired"
        assert rows[("mesh-next", "default")].tone == "not_yet_valid"
        assert rows[("bank-oauth", "default")].tone == "plain"
        # The demo's root CA (a string secret of PEM) is watched like a certificate.
        assert rows[("demo-root-ca", "default")].tone == "valid"
        # Expiry first by default: the expired certificate leads.
        assert table.records[0].key == ("legacy-partner", "default")
        summary = str(app.screen.query_one("#summary").render())
        for part in (
            "11 values",
            "valid 4",
            "expiring 1",
            "urgent 1",
            "expired 1",
            "not yet valid 1",
        ):
            assert part in summary


async def test_filter_as_you_type_and_clear(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        await pilot.press("slash", *"sandbox")
        assert {r.key for r in table.records} == {
            ("bank-api-key", "sandbox"),
            ("bank-client", "sandbox"),
        }
        assert "2 shown" in str(app.screen.query_one("#summary").render())
        # The filter field sits under the header, not over it.
        await pilot.pause()
        header = app.screen.query_one("Header").region
        assert app.screen.query_one("#filter").region.y >= header.bottom
        await pilot.press("escape")
        assert table.row_count == 11
        await pilot.press("slash", *"zzz")
        assert table.row_count == 0


async def test_sort_by_header_click_and_keys(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        await pilot.click(RecordTable, offset=(3, 0))  # the "Name" header
        names = [r.cells[0] for r in table.records]
        assert names == sorted(names)
        await pilot.click(RecordTable, offset=(3, 0))
        assert [r.cells[0] for r in table.records] == sorted(names, reverse=True)
        await pilot.press("s")  # next column: Type
        assert table.sort_column == 1
        assert table.records[0].cells[1] == "certificate"


async def test_enter_opens_the_detail_of_the_row(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.secret_name == "payments-gateway"


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RecordTable([Column("name", "Name"), Column("days", "Days", justify="right")])


async def test_ten_thousand_rows_filter_and_sort() -> None:
    records = [
        Record(
            i,
            (f"cert-{i:05d}", str(i % 400)),
            ((0, f"cert-{i:05d}"), (0, i % 400)),
            "valid",
            f"cert-{i:05d} {i % 400}",
        )
        for i in range(10_000)
    ]
    app = _TableApp()
    async with app.run_test(size=(80, 30)) as pilot:
        table = app.query_one(RecordTable)
        table.set_records(records)
        await pilot.pause()
        assert table.row_count == 10_000
        table.set_filter("cert-0999")
        assert table.row_count == 10
        table.set_filter("")
        table.sort_by(1, reverse=True)
        assert table.records[0].sort_keys[1] == (0, 399)
        await pilot.press("end")
        assert table.cursor_row == 9_999
        assert table.scroll_y > 9_000


async def test_a_change_from_the_cli_shows_without_f5(demo_vault: Path) -> None:
    """Another connection (what `knoxtui secret add` does) writes to the vault file: the list on
    screen picks it up by itself; our own writes do not count as outside changes."""
    from knoxtui.vault import Vault

    app = app_for(demo_vault)
    app.vault_poll_seconds = 0.1
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        assert ("added-by-cli", "default") not in {r.key for r in table.records}
        before = app.vault.data_version()
        app.vault.add_string("own-write", "x")
        assert app.vault.data_version() == before
        with Vault.open(demo_vault, "demo", kdf_iter=1000) as other:
            other.add_string("added-by-cli", "s3cret-value")
        await wait_for(pilot, lambda: ("added-by-cli", "default") in {r.key for r in table.records})
        assert "s3cret-value" not in str(app.screen.query_one("#summary").render())


async def test_narrow_terminal_keeps_the_expiry_state_and_wide_uses_the_room(
    demo_vault: Path,
) -> None:
    """At 100×30 Expires, Days and Status stay on screen (lower-priority columns give way); at
    160 columns long subject CNs get the free width instead of an ellipsis."""
    from ui_helpers import screen_text

    for size in ((100, 30), (80, 24)):
        app = app_for(demo_vault)
        async with app.run_test(size=size) as pilot:
            await unlock(pilot)
            table = app.screen.query_one(RecordTable)
            await pilot.pause()
            header = table.render_line(0).text
            for label in ("Name", "Days", "Status"):
                assert label in header, (size, header)
            assert len(header.rstrip()) <= size[0]
            assert "Expires" in header or size[0] < 100
            assert table.virtual_size.width <= table.scrollable_content_region.width + 1
            row = table.line_text(0).plain
            assert "expired" in row  # the worst row's status is drawn, not cut off
            assert "expired" in screen_text(app)
    app = app_for(demo_vault)
    async with app.run_test(size=(160, 45)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        await pilot.pause()
        assert table.hidden_columns == []
        widths = dict(zip([c.key for c in table.columns], table._widths, strict=True))
        longest = max(len(r.cells[3]) for r in table.all_records)
        assert widths["subject_cn"] == longest or widths["subject_cn"] > 30


async def test_reverse_sort_keeps_rows_without_a_value_last(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        await pilot.press("S")  # reverse the current sort (Days)
        await pilot.pause()
        tones = [r.tone for r in table.records]
        assert tones[0] != "plain" and tones[-1] == "plain"
        first_plain = tones.index("plain")
        assert all(t == "plain" for t in tones[first_plain:])
        days = [int(r.cells[6]) for r in table.records[:first_plain]]
        assert days == sorted(days, reverse=True)


async def test_cursor_row_keeps_its_status_colour(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        table = app.screen.query_one(RecordTable)
        assert table.has_focus and table.records[0].tone == "expired"
        expired = table.get_component_rich_style("record-table--tone-expired").color
        cursor_line = table.render_line(1)  # row 0 under the cursor
        colours = {seg.style.color for seg in cursor_line if seg.text.strip() and seg.style}
        assert colours == {expired}
        cursor_bg = table.get_component_rich_style("record-table--cursor").bgcolor
        assert all(seg.style.bgcolor == cursor_bg for seg in cursor_line if seg.style)


async def test_columns_refit_when_the_vertical_scrollbar_comes_or_goes() -> None:
    """Rows added (or filtered away) change the vertical scrollbar without a resize: the widths
    follow it, so the table never overflows sideways (Status cut off) and the snapshots do not
    depend on whether the scrollbar was settled when the widths were first computed."""
    columns = [
        Column("name", "Name", min_width=8, priority=0),
        Column("subject", "Subject", min_width=8, max_width=60, priority=5, grow=True),
        Column("status", "Status", min_width=8, priority=1),
    ]

    def rows(count: int) -> list[Record]:
        return [
            Record(i, (f"n{i}", "s" * 80, "valid"), (i, i, i), search=f"n{i}") for i in range(count)
        ]

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield RecordTable(columns)

    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.set_records(rows(3))
        await pilot.pause()

        def fits() -> bool:
            return table.virtual_size.width <= table.scrollable_content_region.width

        def fills() -> bool:
            return table.virtual_size.width == table.scrollable_content_region.width

        assert not table.show_vertical_scrollbar and fills()
        table.set_records(rows(40))  # a scrollbar appears; the size of the widget does not change
        await wait_for(pilot, lambda: table.show_vertical_scrollbar)
        await wait_for(pilot, fits)
        assert not table.show_horizontal_scrollbar and fills()
        table.set_filter("n5")  # one row: the scrollbar goes, the free width comes back
        await wait_for(pilot, lambda: not table.show_vertical_scrollbar)
        await wait_for(pilot, fills)
