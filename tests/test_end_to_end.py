from odoo import Command
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.logistics_sync_core.tests.common import LogisticsSyncCase


@tagged("post_install", "-at_install")
class TestEndToEnd(LogisticsSyncCase):
    """The whole suite installed: a business change travels from the outbox through the
    routing job to one shaped message per destination, and shows up where people look."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        types = cls.env["logistics.sync.event.type"]
        cls.env["logistics.sync.flow"].create(
            [
                {
                    "name": "All order and stock news to the WMS",
                    "system_id": cls.wms.id,
                    "event_type_ids": [
                        Command.set(
                            (
                                types._get("order.confirmed")
                                | types._get("stock.reserved")
                                | types._get("picking.validated")
                            ).ids
                        )
                    ],
                    "masked_fields": "partner.email",
                },
                {
                    "name": "Order status to the marketplace",
                    "system_id": cls.market.id,
                    "event_type_ids": [Command.set(types._get("order.confirmed").ids)],
                    "allowed_fields": "order_id, client_order_ref",
                },
            ]
        )

    def _order(self, ref):
        order = self._create_order(quantity=1)
        order.client_order_ref = ref
        return order

    def _commit_and_route(self):
        """Run what a commit runs (pre-commit hooks), then the routing job it enqueued."""
        with self._trap_routing() as trap:
            pass
        trap.assert_jobs_count(1)
        trap.perform_enqueued_jobs()

    def test_order_to_wms_and_marketplace_then_validation_to_wms(self):
        order = self._order("MKT-77")
        order.action_confirm()
        self._commit_and_route()
        Message = self.env["logistics.sync.message"]
        confirmed = Message.search(
            [("type_code", "=", "order.confirmed"), ("event_id.aggregate_id", "=", order.id)]
        )
        by_system = {m.system_id: m for m in confirmed}
        self.assertEqual(set(by_system), {self.wms, self.market})
        self.assertEqual(by_system[self.wms].payload["partner"]["email"], "***")
        self.assertEqual(set(by_system[self.market].payload), {"order_id", "client_order_ref"})
        reserved = Message.search(
            [("type_code", "=", "stock.reserved"), ("system_id", "=", self.wms.id)]
        )
        self.assertEqual(reserved.event_id.aggregate_id, order.picking_ids.id)

        picking = order.picking_ids
        picking.move_ids.quantity = 1
        picking.button_validate()
        self._commit_and_route()
        validated = Message.search(
            [("type_code", "=", "picking.validated"), ("system_id", "=", self.wms.id)]
        )
        self.assertEqual(len(validated), 1)
        self.assertEqual(validated.payload["moves"][0]["sku"], self.product.default_code)
        self.assertEqual(validated.sequence, 2, "second event of the picking")

    def test_change_from_the_marketplace_is_not_echoed_back(self):
        order = self._order("MKT-78")
        order.with_context(logistics_sync_origin_system_id=self.market.id).action_confirm()
        self._commit_and_route()
        confirmed = self.env["logistics.sync.message"].search(
            [("type_code", "=", "order.confirmed"), ("event_id.aggregate_id", "=", order.id)]
        )
        self.assertEqual(confirmed.system_id, self.wms)

    def test_warehouse_staff_see_messages_and_monitor_but_not_configuration(self):
        order = self._order("MKT-79")
        order.action_confirm()
        self._commit_and_route()
        staff = self.user  # warehouse staff: Logistics Sync user
        undelivered = self.env.ref(
            "logistics_sync_webhook.logistics_sync_message_action_undelivered"
        )
        messages = (
            self.env["logistics.sync.message"]
            .with_user(staff)
            .search(safe_eval(undelivered.domain))
        )
        self.assertTrue(messages)
        menus = self.env["ir.ui.menu"].with_user(staff)._visible_menu_ids()
        self.assertIn(self.env.ref("logistics_sync_monitor.logistics_sync_monitor_menu").id, menus)
        self.assertNotIn(
            self.env.ref("logistics_sync_core.logistics_sync_menu_configuration").id, menus
        )
