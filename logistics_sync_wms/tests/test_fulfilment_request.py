from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from .common import WmsCase


class TestFulfilmentRequest(WmsCase):
    def test_ready_delivery_is_requested_with_partner_skus_lots_and_masked_ship_to(self):
        self.env["logistics.sync.xref"]._link(self.wms, self.product, "WMS-WIDGET")
        order = self._create_order(quantity=2)
        order.order_line.create(
            {"order_id": order.id, "product_id": self.lot_product.id, "product_uom_qty": 3}
        )
        order.action_confirm()
        picking = order.picking_ids
        self.assertEqual(picking.state, "assigned")
        fulfilment = picking.logistics_sync_wms_fulfilment_id
        self.assertTrue(fulfilment.uid)
        self.assertEqual(fulfilment.state, "requested")
        [event] = self._events(fulfilment, "fulfilment.requested")
        self.assertEqual(event.aggregate_canonical_id, fulfilment.uid)
        self.assertFalse(event.origin_system_id)
        payload = event.payload
        self.assertEqual(payload["fulfilment_id"], fulfilment.uid)
        self.assertEqual(payload["warehouse"], self.warehouse.code)
        self.assertEqual(payload["ship_to"]["email"], "jane@example.com")
        self.assertEqual(payload["ship_to"]["city"], "Brussels")
        lines = {line["sku"]: line for line in payload["lines"]}
        self.assertEqual(lines["WID-1"]["partner_sku"], "WMS-WIDGET")
        self.assertEqual(lines["WID-1"]["quantity"], 2)
        self.assertEqual(lines["SER-1"]["partner_sku"], "SER-1")
        self.assertEqual(lines["SER-1"]["quantity"], 3)
        self.assertTrue(set(lines["SER-1"]["lots"]) <= {"LA-1", "LB-2"})
        self.assertTrue(lines["SER-1"]["lots"])
        # the flow's policy masks personal data on the way out, not in the event
        [message] = event._route()
        self.assertEqual(message.payload["ship_to"]["email"], "***")
        self.assertEqual(message.payload["ship_to"]["phone"], "***")
        self.assertEqual(message.payload["ship_to"]["name"], "Jane Customer")
        self.assertEqual(message.payload["lines"][0]["quantity"], 2)

    def test_sku_code_map_gives_the_partner_sku(self):
        self.env["logistics.sync.code.map"].create(
            {
                "system_id": self.wms.id,
                "domain": "sku",
                "external_code": "P-0001",
                "canonical_value": "WID-1",
            }
        )
        picking = self._delivery()
        [event] = self._events(picking.logistics_sync_wms_fulfilment_id, "fulfilment.requested")
        self.assertEqual(event.payload["lines"][0]["partner_sku"], "P-0001")
        self.assertEqual(event.payload["lines"][0]["sku"], "WID-1")

    def test_not_requested_before_ready_unless_the_warehouse_says_on_confirmation(self):
        missing = self.env["product.product"].create(
            {"name": "Out of stock", "default_code": "OOS-1", "is_storable": True}
        )
        picking = self._delivery(product=missing)
        self.assertEqual(picking.state, "confirmed")
        self.assertFalse(picking.logistics_sync_wms_fulfilment_id)
        # once the stock is there, the transfer is ready and requested
        self.env["stock.quant"]._update_available_quantity(missing, self.warehouse.lot_stock_id, 5)
        picking.action_assign()
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(picking.logistics_sync_wms_fulfilment_id.state, "requested")
        self.warehouse.logistics_sync_request_trigger = "confirmed"
        picking = self._delivery(
            product=missing.create(
                {"name": "Also out", "default_code": "OOS-2", "is_storable": True}
            )
        )
        self.assertEqual(picking.state, "confirmed")
        self.assertTrue(picking.logistics_sync_wms_fulfilment_id)

    def test_other_operation_types_are_not_run_by_the_wms(self):
        self.warehouse.logistics_sync_picking_type_ids = self.warehouse.int_type_id
        picking = self._delivery()
        self.assertFalse(picking.logistics_sync_wms_system_id)
        self.assertFalse(picking.logistics_sync_wms_fulfilment_id)
        # and Odoo announces their availability itself, as before
        self.assertTrue(self._events(picking, "stock.reserved"))

    def test_changes_and_cancellation_are_announced(self):
        picking = self._delivery(quantity=2)
        fulfilment = picking.logistics_sync_wms_fulfilment_id
        picking.move_ids.product_uom_qty = 4
        [changed] = self._events(fulfilment, "fulfilment.changed")
        self.assertEqual(changed.payload["revision"], 2)
        self.assertEqual(changed.payload["lines"][0]["quantity"], 4)
        # a write that changes nothing of the request announces nothing
        picking.write({"scheduled_date": picking.scheduled_date})
        self.assertEqual(len(self._events(fulfilment, "fulfilment.changed")), 1)
        picking.action_cancel()
        [cancelled] = self._events(fulfilment, "fulfilment.cancelled")
        self.assertEqual(cancelled.payload["fulfilment_id"], fulfilment.uid)
        self.assertEqual(fulfilment.state, "cancelled")

    def test_validation_by_hand_is_blocked_and_a_manager_may_override(self):
        picking = self._delivery()
        stock_user = new_test_user(self.env, login="wh_clerk", groups="stock.group_stock_user")
        picking.move_ids.quantity = 2
        with self.assertRaisesRegex(UserError, "performed by Test WMS"):
            picking.with_user(stock_user).button_validate()
        with self.assertRaises(AccessError):
            picking.with_user(stock_user).action_logistics_sync_wms_override_validate()
        self.assertEqual(picking.state, "assigned")
        manager = new_test_user(
            self.env,
            login="wh_manager",
            groups="stock.group_stock_manager,logistics_sync_core.group_logistics_sync_manager",
        )
        picking.with_user(manager).action_logistics_sync_wms_override_validate()
        self.assertEqual(picking.state, "done")
        self.assertIn("Validated by hand", picking.message_ids[0].body)

    def test_warehouse_assignment_makes_the_wms_owner_of_pick_quantities(self):
        rule = self.env["logistics.sync.ownership.rule"].search(
            [("res_model", "=", "stock.move.line"), ("owner_system_id", "=", self.wms.id)]
        )
        self.assertEqual(len(rule), 1)
        self.assertIn("quantity", rule.field_names)

    def test_access_rights(self):
        picking = self._delivery()
        fulfilment = picking.logistics_sync_wms_fulfilment_id
        clerk = new_test_user(self.env, login="wh_reader", groups="stock.group_stock_user")
        self.assertEqual(fulfilment.with_user(clerk).state, "requested")
        with self.assertRaises(AccessError):
            fulfilment.with_user(clerk).write({"revision": 9})
        with self.assertRaises(AccessError):
            self.warehouse.with_user(clerk).write({"logistics_sync_system_id": False})
        outsider = new_test_user(self.env, login="no_stock", groups="base.group_user")
        with self.assertRaises(AccessError):
            fulfilment.with_user(outsider).read(["state"])
