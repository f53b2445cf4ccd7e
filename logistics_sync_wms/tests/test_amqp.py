from odoo.tests import tagged

from odoo.addons.logistics_sync_webhook.tests.amqp_common import AmqpQueueMixin
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import WmsCase
from .inventory_common import InventoryCase


class WmsQueueMixin(AmqpQueueMixin):
    """The test WMS reads a queue of the RabbitMQ server on 127.0.0.1:5672."""

    def setUp(self):
        super().setUp()
        self._read_queue(self.wms)
        self.Inbound = self.env["logistics.sync.inbound.message"]

    def _consume_and_apply(self):
        """One consume job, its commit, then the drain job it started after the commit."""
        with trap_jobs():
            result = self.wms.inbound_amqp_consume()
        with trap_jobs() as trap:
            self._commit()
        trap.assert_jobs_count(1, only=self.wms.inbound_drain)
        with trap_jobs():
            self.wms.inbound_drain()
        return result

    def _message(self, message_id):
        return self.Inbound.search(
            [("system_id", "=", self.wms.id), ("message_id", "=", message_id)]
        )


@tagged("post_install", "-at_install")
class TestAmqpSnapshot(WmsQueueMixin, InventoryCase):
    def _part(self, part, items, last):
        return {
            "type": "inventory.snapshot",
            "data": {
                "snapshot_id": "AMQP-SNAP-1",
                "kind": "full",
                "warehouse": self.warehouse.code,
                "taken_at": "2024-06-01T06:00:00Z",
                "part": part,
                "last_part": last,
                "items": items,
            },
        }

    def test_a_full_snapshot_in_two_messages_builds_a_reconciliation(self):
        # Odoo: screw 1000 @stock, phone 10 @shelf, wine LOT-A 24 + LOT-B 12 @shelf,
        # widget 100 @stock
        first = [
            {"sku": "SCR-1", "quantity": 1000},
            {"sku": "PHO-1", "location": "WH-SHELF-A", "quantity": 7},
        ]
        second = [
            {"sku": "WIN-1", "location": "WH-SHELF-A", "lot": "LOT-A", "quantity": 24},
            {"sku": "WIN-1", "location": "WH-SHELF-A", "lot": "LOT-B", "quantity": 12},
            {"sku": "WID-1", "quantity": 100},
        ]
        self._publish(self._part(1, first, False), message_id="snap-part-1")
        self._publish(self._part(2, second, True), message_id="snap-part-2")
        # a copy of the first part, delivered again by the broker
        self._publish(self._part(1, first, False), message_id="snap-part-1")
        self.assertEqual(
            self._consume_and_apply(), "3 taken: 2 accepted, 1 duplicate(s), 0 refused"
        )
        self.assertEqual(self._ready_settled(), 0)
        snapshot = self.Snapshot.search([("external_id", "=", "AMQP-SNAP-1")])
        self.assertEqual(
            (snapshot.source, snapshot.kind, snapshot.part_count, snapshot.line_count),
            ("amqp", "full", 2, 5),
        )
        self.assertEqual(self._message("snap-part-2").res_id, snapshot.id)
        self._process(snapshot)
        reconciliation = snapshot.reconciliation_id
        self.assertEqual(snapshot.state, "reconciled")
        differing = reconciliation.line_ids.filtered("difference")
        self.assertEqual(
            [(line.product_id, line.location_id, line.difference) for line in differing],
            [(self.phone, self.shelf, -3)],
        )
        self.assertEqual(reconciliation.review_count, 1)


@tagged("post_install", "-at_install")
class TestAmqpConfirmation(WmsQueueMixin, WmsCase):
    def test_a_confirmation_over_amqp_is_applied_once(self):
        picking = self._delivery(quantity=2)
        envelope = {
            "type": "fulfilment.confirmation",
            "data": {
                "fulfilment_id": picking.logistics_sync_wms_uid,
                "confirmation_id": "AMQP-C-1",
                "stage": "shipped",
                "lines": [self._line(self.product, 2)],
                "tracking_numbers": ["TRK-AMQP"],
            },
        }
        self._publish(envelope, message_id="conf-1")
        self._publish(envelope, message_id="conf-1")
        self.assertEqual(
            self._consume_and_apply(), "2 taken: 1 accepted, 1 duplicate(s), 0 refused"
        )
        message = self._message("conf-1")
        self.assertEqual(message.state, "done", message.error)
        confirmation = self.Confirmation.search([("picking_id", "=", picking.id)])
        self.assertEqual(len(confirmation), 1)
        self.assertEqual(
            (confirmation.state, confirmation.source, confirmation.reference),
            ("applied", "amqp", "conf-1"),
        )
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 2)
        self.assertEqual(self._ready_settled(), 0)
