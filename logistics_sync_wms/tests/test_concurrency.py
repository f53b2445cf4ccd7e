import threading
import uuid

import psycopg2

from odoo import Command
from odoo.tests import tagged

from odoo.addons.logistics_sync_core.tests.common import CommittedCase


@tagged("post_install", "-at_install")
class TestConcurrentConfirmation(CommittedCase):
    """Two deliveries of one confirmation (say a webhook and its API retry) in two
    transactions at the same moment: the UNIQUE constraint lets one apply it; the other,
    retried as the request or job would be, finds it and changes nothing."""

    def setUp(self):
        super().setUp()
        code = f"wms_{uuid.uuid4().hex[:8]}"
        with self._cursor() as env:
            warehouse = env["stock.warehouse"].search(
                [("company_id", "=", env.company.id)], limit=1
            )
            before = (
                warehouse.logistics_sync_system_id.id,
                warehouse.logistics_sync_picking_type_ids.ids,
            )
            self.addCleanup(self._restore_warehouse, warehouse.id, before)
            system = self._remember(
                env["logistics.sync.system"].create(
                    {"name": "Live WMS", "code": code, "kind": "wms"}
                )
            )
            warehouse.write(
                {
                    "logistics_sync_system_id": system.id,
                    "logistics_sync_picking_type_ids": [Command.set(warehouse.out_type_id.ids)],
                }
            )
            self._remember(
                env["logistics.sync.ownership.rule"].search([("owner_system_id", "=", system.id)])
            )
            product = env["product.product"].create(
                {"name": "Live widget", "default_code": f"LIVE-{code}", "is_storable": True}
            )
            self._remember(product.product_tmpl_id)
            self._remember(product)
            self.system_id, self.sku = system.id, product.default_code
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 10)
            self._remember(env["stock.quant"].search([("product_id", "=", product.id)]))
            picking = env["stock.picking"].create(
                {
                    "picking_type_id": warehouse.out_type_id.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": env.ref("stock.stock_location_customers").id,
                    "move_ids": [
                        Command.create(
                            {
                                "name": "Live widget",
                                "product_id": product.id,
                                "product_uom_qty": 2,
                                "location_id": warehouse.lot_stock_id.id,
                                "location_dest_id": env.ref("stock.stock_location_customers").id,
                            }
                        )
                    ],
                }
            )
            self._remember(picking)
            picking.action_confirm()
            fulfilment = picking.logistics_sync_wms_fulfilment_id
            self.assertTrue(fulfilment)
            self.fulfilment_uid = fulfilment.uid
            self.picking_id = picking.id
            self._remember(picking.move_ids)
            self._remember_emitted(env, fulfilment)
            self._remember(fulfilment)
            for record in (picking, *picking.move_ids):
                self._remember(
                    env["logistics.sync.record"].search(
                        [("res_model", "=", record._name), ("res_id", "=", record.id)]
                    )
                )
            self._remember(picking.move_line_ids)

    def _restore_warehouse(self, warehouse_id, before):
        with self._cursor() as env:
            env["stock.warehouse"].browse(warehouse_id).write(
                {
                    "logistics_sync_system_id": before[0],
                    "logistics_sync_picking_type_ids": [Command.set(before[1])],
                }
            )

    def _deliver(self, payload, outcome, applied=None, release=None):
        """One delivery as a request or job does it: in its own transaction, retried after
        a serialization failure."""
        for attempt in range(3):
            try:
                with self._cursor() as env:
                    system = env["logistics.sync.system"].browse(self.system_id)
                    record = env["logistics.sync.wms.confirmation"]._receive_confirmation(
                        system, payload, source="api"
                    )
                    outcome.append(
                        (
                            attempt,
                            record.id,
                            bool(record.env.context.get("logistics_sync_wms_duplicate")),
                        )
                    )
                    if applied is not None:
                        applied.set()  # applied, not committed yet: the other one starts now
                        release.wait(1.5)
            except psycopg2.errors.SerializationFailure:
                outcome.append((attempt, "serialization_failure", None))
                continue
            return

    def test_two_concurrent_deliveries_apply_once(self):
        payload = {
            "fulfilment_id": self.fulfilment_uid,
            "confirmation_id": "SAME-1",
            "stage": "picked",
            "lines": [{"sku": self.sku, "quantity": 2}],
        }
        applied, release = threading.Event(), threading.Event()
        first, second = [], []
        one = threading.Thread(target=self._deliver, args=(payload, first, applied, release))
        one.start()
        self.assertTrue(applied.wait(30))
        two = threading.Thread(target=self._deliver, args=(payload, second))
        two.start()
        two.join(0.5)  # the second waits on the first's uncommitted row
        self.assertTrue(two.is_alive())
        release.set()
        one.join(30)
        two.join(30)
        with self._cursor() as env:
            confirmations = env["logistics.sync.wms.confirmation"].search(
                [("system_id", "=", self.system_id)]
            )
            self._remember(confirmations)
            self.assertEqual(len(confirmations), 1)
            self.assertEqual(confirmations.state, "applied", confirmations.error)
            self.assertEqual(confirmations.duplicate_count, 1)
            picking = env["stock.picking"].browse(self.picking_id)
            picked = picking.move_line_ids.filtered("picked")
            self._remember(picking.move_line_ids)
            self.assertEqual(sum(picked.mapped("quantity")), 2)
        self.assertEqual(first, [(0, confirmations.id, False)])
        # the second met the first's row: refused, then retried and found it
        self.assertEqual(second[0], (0, "serialization_failure", None))
        self.assertEqual(second[-1], (1, confirmations.id, True))
