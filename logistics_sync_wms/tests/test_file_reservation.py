"""Reservation and shortage reports read from a partner's CSV files, over the live SFTP
server and from a watched folder: applied through the same entry point as the webhook and
the partner API (shown on the transfer, ``stock.reserved`` / ``stock.shortage`` with the
partner as origin), exactly once, with line-numbered errors."""

import tempfile
from pathlib import Path

from odoo import Command
from odoo.tools import mute_logger

from .. import file_formats
from .files_common import FilePartnerCase

RESERVATION_COLUMNS = [
    ("Order", "fulfilment_id"),
    ("Ref", "reservation_id"),
    ("Status", "status"),
    ("Item", "sku"),
    ("Qty", "quantity"),
]


class _ReservationFiles:
    """The tests, for a partner ``self.partner_system`` whose folders are ``self.root``."""

    @classmethod
    def _setup_partner(cls, system, root):
        cls.partner_system, cls.root = system, root
        cls.warehouse.write(
            {
                "logistics_sync_system_id": system.id,
                "logistics_sync_picking_type_ids": [(6, 0, cls.warehouse.out_type_id.ids)],
            }
        )
        cls.reservation_format = cls.env["logistics.sync.file.format"].create(
            {
                "name": "Stock status",
                "system_id": system.id,
                "kind": "reservation",
                "file_type": "csv",
                "file_pattern": "STOCKSTATUS_*.csv",
                "sequence": 1,
                "column_ids": [
                    Command.create({"column": column, "field": field, "sequence": n})
                    for n, (column, field) in enumerate(RESERVATION_COLUMNS)
                ],
            }
        )

    def _delivery(self, quantity=2):
        order = self._create_order(quantity=quantity)
        order.action_confirm()
        return order.picking_ids

    def _csv(self, *payloads):
        rows = (row for payload in payloads for row in file_formats.reservation_rows(payload))
        return file_formats.write_csv(rows, RESERVATION_COLUMNS)

    def test_shortage_and_reservation_files_round_trip(self):
        short, ready = self._delivery(quantity=3), self._delivery(quantity=1)
        text = self._csv(
            {
                "fulfilment_id": short.logistics_sync_wms_uid,
                "reservation_id": "R-1",
                "status": "shortage",
                "lines": [{"sku": "WID-1", "quantity": 2}],
            },
            {"fulfilment_id": ready.logistics_sync_wms_uid, "status": "reserved", "lines": []},
        )
        self._drop("STOCKSTATUS_1.csv", text, root=self.root)
        exchange, trap = self._poll(self.partner_system)
        trap.assert_jobs_count(1, only=exchange.process)
        exchange.process()
        self.assertRecordValues(
            exchange,
            [
                {
                    "state": "applied",
                    "kind": "reservation",
                    "line_count": 2,
                    "error_message": False,
                    "result_model": "logistics.sync.wms.confirmation",
                    "archived_as": "processed/STOCKSTATUS_1.csv",
                }
            ],
        )
        reports = self.env["logistics.sync.wms.confirmation"].browse(exchange.result_ids)
        self.assertRecordValues(
            reports,
            [
                {"kind": "reservation", "external_id": "R-1", "stage": "shortage"},
                {
                    "kind": "reservation",
                    "external_id": f"file-{exchange.checksum[:20]}-2",
                    "stage": "reserved",
                },
            ],
        )
        for report in reports:
            self.assertRecordValues(
                report,
                [{"state": "applied", "source": "file", "reference": "STOCKSTATUS_1.csv"}],
            )
        self.assertEqual(short.logistics_sync_wms_state, "shortage")
        self.assertEqual(short.logistics_sync_wms_reservation_note, "WID-1: 2 short")
        origin = self.partner_system
        self.assertEqual(self._events(short, "stock.shortage").origin_system_id, origin)
        self.assertEqual(ready.logistics_sync_wms_state, "reserved")
        self.assertEqual(self._events(ready, "stock.reserved").origin_system_id, origin)
        self.assertEqual(self._folder("processed", self.root), ["STOCKSTATUS_1.csv"])
        self.assertEqual(self._folder("outbox", self.root), [])
        # the same report under another name: recognised by its ids, not applied again
        self._drop("STOCKSTATUS_1_again.csv", text, root=self.root)
        again, _trap = self._poll(self.partner_system)
        again.process()
        self.assertEqual(again.result_ids, exchange.result_ids)
        self.assertEqual(reports.mapped("duplicate_count"), [1, 1])
        self.assertEqual(len(self._events(short, "stock.shortage")), 1)
        # the very same file again: a duplicate exchange, nothing to apply
        self._drop("STOCKSTATUS_1.csv", text, root=self.root)
        duplicate, trap = self._poll(self.partner_system)
        trap.assert_jobs_count(0)
        self.assertEqual(duplicate.state, "duplicate")

    def test_bad_line_fails_the_whole_file_naming_the_line(self):
        picking = self._delivery(quantity=2)
        uid = picking.logistics_sync_wms_uid
        text = f"Order,Ref,Status,Item,Qty\r\n{uid},R-1,shortage,WID-1,1\r\n{uid},R-2,later,,\r\n"
        self._drop("STOCKSTATUS_2.csv", text, root=self.root)
        exchange, _trap = self._poll(self.partner_system)
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_file_exchange"):
            exchange.process()
        self.assertRecordValues(
            exchange,
            [
                {
                    "state": "error",
                    "error_line": 3,
                    "error_message": "status 'later' is not one of reserved, shortage",
                    "archived_as": "error/STOCKSTATUS_2.csv",
                }
            ],
        )
        # every line is read before any applies: the good first line changed nothing
        self.assertEqual(picking.logistics_sync_wms_state, "requested")
        self.assertFalse(self._events(picking, "stock.shortage"))
        self.assertFalse(
            self.env["logistics.sync.wms.confirmation"].search([("external_id", "=", "R-1")])
        )


class TestReservationFilesSftp(_ReservationFiles, FilePartnerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_partner(cls.tpl, cls.partner_root)


class TestReservationFilesFolder(_ReservationFiles, FilePartnerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        for name in ("outbox", "inbox", "processed", "error"):
            (root / name).mkdir()
        folder_partner = cls.env["logistics.sync.system"].create(
            {
                "name": "Local 3PL",
                "code": "local_3pl",
                "kind": "3pl",
                "file_transport": "folder",
                "file_folder": str(root),
            }
        )
        cls._setup_partner(folder_partner, root)

    def setUp(self):
        super().setUp()
        for path in self.root.glob("*/*"):
            path.unlink()
