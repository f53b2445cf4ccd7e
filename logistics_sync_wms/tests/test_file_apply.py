"""End to end: files picked up from the live SFTP server are applied through the WMS entry
points (confirmations, inventory snapshots) exactly once, then moved to processed/."""

from odoo.tools import mute_logger

from .. import file_formats
from .files_common import FilePartnerCase


class TestFileApply(FilePartnerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse.write(
            {
                "logistics_sync_system_id": cls.tpl.id,
                "logistics_sync_picking_type_ids": [(6, 0, cls.warehouse.out_type_id.ids)],
            }
        )

    def _delivery(self, quantity=2):
        order = self._create_order(quantity=quantity)
        order.action_confirm()
        return order.picking_ids

    def _desadv(self, picking, quantity, confirmation_id="DSP-1", **line):
        payload = {
            "fulfilment_id": picking.logistics_sync_wms_uid,
            "confirmation_id": confirmation_id,
            "stage": "shipped",
            "lines": [{"sku": "WID-1", "quantity": quantity, **line}],
            "packages": [],
            "tracking_numbers": ["TRK-1"],
            "complete": True,
        }
        return file_formats.write_desadv([payload], sender="ACME3PL", recipient="ODOO")

    def test_desadv_picked_up_applied_once_and_moved_to_processed(self):
        picking = self._delivery(quantity=2)
        self._drop("DESADV_1.edi", self._desadv(picking, 2))
        exchange, trap = self._poll()
        trap.assert_jobs_count(1, only=exchange.process)
        exchange.process()
        self.assertRecordValues(
            exchange,
            [
                {
                    "state": "applied",
                    "error_message": False,
                    "result_model": "logistics.sync.wms.confirmation",
                    "archived_as": "processed/DESADV_1.edi",
                }
            ],
        )
        confirmation = self.env["logistics.sync.wms.confirmation"].browse(exchange.result_ids)
        self.assertRecordValues(
            confirmation,
            [{"state": "applied", "source": "file", "reference": "DESADV_1.edi"}],
        )
        self.assertEqual(picking.state, "done")
        self.assertEqual(self._folder("processed"), ["DESADV_1.edi"])
        self.assertEqual(self._folder("outbox"), [])
        # the same content under another name: recognised by the confirmation id
        self._drop("DESADV_1_resent.edi", self._desadv(picking, 2))
        again, _trap = self._poll()
        again.process()
        self.assertEqual(again.result_ids, exchange.result_ids)
        self.assertEqual(confirmation.duplicate_count, 1)

    def test_desadv_quantity_in_the_unit_it_names(self):
        self.env["logistics.sync.code.map"].create(
            {
                "system_id": self.tpl.id,
                "domain": "uom",
                "external_code": "DZN",
                "canonical_value": "Dozens",
            }
        )
        picking = self._delivery(quantity=24)
        self._drop("DESADV_2.edi", self._desadv(picking, 2, uom="DZN"))
        exchange, _trap = self._poll()
        exchange.process()
        self.assertEqual(exchange.state, "applied")
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 24)
        # an unknown unit code: quarantined, the file handed over but flagged
        other = self._delivery(quantity=2)
        self._drop("DESADV_3.edi", self._desadv(other, 1, confirmation_id="DSP-3", uom="CT"))
        exchange, _trap = self._poll()
        exchange.process()
        self.assertIn("could not apply", exchange.error_message)
        confirmation = self.env["logistics.sync.wms.confirmation"].browse(exchange.result_ids)
        self.assertEqual(confirmation.state, "quarantined")
        self.assertIn("CT (uom)", confirmation.error)
        self.assertEqual(other.state, "assigned")

    def test_csv_confirmation_of_an_unknown_fulfilment_needs_attention(self):
        text = "Order;Dispatch;Item;Qty;Lot;Box;Weight;Tracking\nNOPE;D-1;WID-1;1;;;;\n"
        self._drop("dispatch_1.csv", text)
        exchange, _trap = self._poll()
        with mute_logger("odoo.addons.logistics_sync_wms.models.logistics_sync_wms_confirmation"):
            exchange.process()
        self.assertEqual(exchange.state, "applied")
        self.assertIn("could not apply", exchange.error_message)
        confirmation = self.env["logistics.sync.wms.confirmation"].browse(exchange.result_ids)
        self.assertEqual(confirmation.state, "error")

    def test_invrpt_becomes_a_snapshot_read_as_a_stream(self):
        header = {"snapshot_id": "INV-1", "taken_at": "2026-12-06T06:00:00Z"}
        lines = [{"sku": "WID-1", "quantity": 97.0}, {"sku": "WID-1", "quantity": 1.0, "lot": "X"}]
        self._drop("INVRPT_1.edi", file_formats.write_invrpt(header, iter(lines)))
        exchange, _trap = self._poll()
        exchange.process()
        self.assertRecordValues(
            exchange,
            [
                {
                    "state": "applied",
                    "result_model": "logistics.sync.inventory.snapshot",
                    "line_count": 2,
                    "archived_as": "processed/INVRPT_1.edi",
                }
            ],
        )
        snapshot = self.env["logistics.sync.inventory.snapshot"].browse(exchange.result_ids)
        self.assertRecordValues(
            snapshot,
            [
                {
                    "external_id": "INV-1",
                    "source": "file",
                    "reference": "INVRPT_1.edi",
                    "line_count": 2,
                    "warehouse_id": self.warehouse.id,
                }
            ],
        )
        # the same report under another name: the snapshot id is known, nothing stored twice
        self._drop("INVRPT_1_again.edi", file_formats.write_invrpt(header, iter(lines)))
        again, _trap = self._poll()
        again.process()
        self.assertEqual(again.result_ids, exchange.result_ids)
        self.assertEqual(snapshot.line_count, 2)

    def test_csv_inventory_report_without_snapshot_id_gets_one_from_its_content(self):
        self.env["logistics.sync.file.format"].create(
            {
                "name": "Stock CSV",
                "system_id": self.tpl.id,
                "kind": "snapshot",
                "file_type": "csv",
                "file_pattern": "stock_*.txt",
                "snapshot_kind": "partial",
                "column_ids": [
                    (0, 0, {"column": "sku", "field": "sku"}),
                    (0, 0, {"column": "qty", "field": "quantity"}),
                ],
            }
        )
        self._drop("stock_1.txt", "sku,qty\nWID-1,97\n")
        exchange, _trap = self._poll()
        exchange.process()
        self.assertEqual(exchange.state, "applied")
        snapshot = self.env["logistics.sync.inventory.snapshot"].browse(exchange.result_ids)
        self.assertEqual(snapshot.external_id, f"file-{exchange.checksum[:20]}")
        self.assertEqual(snapshot.kind, "partial")
