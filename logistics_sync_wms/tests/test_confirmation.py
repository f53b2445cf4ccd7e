from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from odoo.addons.logistics_sync_core.exceptions import OwnershipError
from odoo.addons.logistics_sync_core.models.logistics_sync_event import CONTEXT_ORIGIN

from .common import WmsCase


class TestConfirmation(WmsCase):
    def _picked(self, picking):
        picked = {}
        for ml in picking.move_ids.move_line_ids.filtered("picked"):
            key = (ml.product_id.default_code, ml.lot_id.name or None)
            picked[key] = picked.get(key, 0) + ml.quantity
        return picked

    def test_picked_then_shipped_is_applied_once(self):
        picking = self._delivery(quantity=2)
        line = [self._line(self.product, 2)]
        first = self._confirm(picking, "picked", line, confirmation_id="P-1")
        self.assertEqual(first.state, "applied", first.error)
        self.assertEqual(picking.logistics_sync_wms_state, "picked")
        again = self._confirm(picking, "picked", line, confirmation_id="P-1")
        self.assertEqual(again, first)
        self.assertTrue(again.env.context.get("logistics_sync_wms_duplicate"))
        self.assertEqual(first.duplicate_count, 1)
        self.assertEqual(self._picked(picking), {("WID-1", None): 2})
        shipped = self._confirm(
            picking,
            "shipped",
            tracking_numbers=["TRK1", "TRK2"],
            carrier="DHL",
            confirmation_id="S-1",
        )
        self.assertEqual(shipped.state, "applied", shipped.error)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 2)
        self.assertEqual(picking.logistics_sync_wms_state, "shipped")
        fulfilment = picking.logistics_sync_wms_fulfilment_id
        self.assertEqual(fulfilment.tracking_numbers, "TRK1, TRK2")
        self.assertEqual(fulfilment.carrier, "DHL")
        [validated] = self._events(picking, "picking.validated")
        self.assertEqual(validated.origin_system_id, self.wms)
        # the same shipment confirmation again: nothing more
        self.assertEqual(self._confirm(picking, "shipped", confirmation_id="S-1"), shipped)
        self.assertEqual(len(self.Confirmation.search([("picking_id", "=", picking.id)])), 2)

    def test_short_pick_creates_a_backorder_requested_from_the_wms(self):
        picking = self._delivery(quantity=5)
        self._confirm(picking, "picked", [self._line(self.product, 3)])
        shipped = self._confirm(picking, "shipped", complete=True)
        self.assertEqual(shipped.state, "applied", shipped.error)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 3)
        backorder = picking.backorder_ids
        self.assertEqual(len(backorder), 1)
        self.assertEqual(backorder.move_ids.product_uom_qty, 2)
        request = backorder.logistics_sync_wms_fulfilment_id
        self.assertTrue(request)
        self.assertNotEqual(request.uid, picking.logistics_sync_wms_uid)
        [event] = self._events(request, "fulfilment.requested")
        # caused by the WMS's confirmation, yet addressed to it: not an echo
        self.assertFalse(event.origin_system_id)
        self.assertEqual(event.payload["lines"][0]["quantity"], 2)

    def test_short_pick_cancels_the_rest_when_the_operation_type_never_backorders(self):
        self.out_type.create_backorder = "never"
        picking = self._delivery(quantity=5)
        self._confirm(picking, "picked", [self._line(self.product, 3)])
        shipped = self._confirm(picking, "shipped")
        self.assertEqual(shipped.state, "applied", shipped.error)
        self.assertEqual(picking.state, "done")
        self.assertFalse(picking.backorder_ids)
        self.assertEqual(sum(picking.move_ids.mapped("quantity")), 3)
        # the 2 not picked are not waiting anywhere: cancelled
        self.assertFalse(
            self.env["stock.move"].search(
                [
                    ("product_id", "=", self.product.id),
                    ("picking_type_id", "=", self.out_type.id),
                    ("state", "not in", ("done", "cancel")),
                ]
            )
        )
        self.assertEqual(picking.sale_id.order_line.qty_delivered, 3)

    def test_lots_and_packages(self):
        picking = self._delivery(quantity=4, product=self.lot_product)
        packed = self._confirm(
            picking,
            "packed",
            [
                self._line(self.lot_product, 3, lot="LA-1", package="BOX-1"),
                self._line(self.lot_product, 1, lot="LB-2", package="BOX-2"),
            ],
            packages=[
                {"name": "BOX-1", "weight": 2.5, "length": 40, "width": 30, "height": 20},
                {"name": "BOX-2", "weight": 0.8, "length": 20, "width": 15, "height": 10},
            ],
        )
        self.assertEqual(packed.state, "applied", packed.error)
        self.assertEqual(self._picked(picking), {("SER-1", "LA-1"): 3, ("SER-1", "LB-2"): 1})
        shipped = self._confirm(picking, "shipped", tracking_numbers=["T-9"])
        self.assertEqual(shipped.state, "applied", shipped.error)
        self.assertEqual(picking.state, "done")
        lines = picking.move_line_ids
        box1 = lines.filtered(lambda ml: ml.lot_id == self.lot_a).result_package_id
        self.assertEqual(box1.name, "BOX-1")
        self.assertEqual(box1.shipping_weight, 2.5)
        self.assertEqual(
            (
                box1.package_type_id.packaging_length,
                box1.package_type_id.width,
                box1.package_type_id.height,
            ),
            (40, 30, 20),
        )
        self.assertEqual(
            lines.filtered(lambda ml: ml.lot_id == self.lot_b).result_package_id.name, "BOX-2"
        )
        # the packages now hold the lots shipped to the customer
        customer_quants = self.env["stock.quant"].search([("package_id", "=", box1.id)])
        self.assertEqual(customer_quants.lot_id, self.lot_a)
        self.assertEqual(sum(customer_quants.mapped("quantity")), 3)

    def test_the_wms_owns_pick_quantities(self):
        picking = self._delivery(quantity=2)
        self._confirm(picking, "picked", [self._line(self.product, 1)])
        clerk = new_test_user(self.env, login="wh_picker", groups="stock.group_stock_user")
        picked_line = picking.move_line_ids.filtered("picked")
        with self.assertRaisesRegex(OwnershipError, "system of record"):
            picked_line.with_user(clerk).write({"quantity": 2})
        with self.assertRaisesRegex(OwnershipError, "system of record"):
            picking.move_ids.with_user(clerk).write({"picked": True})
        with self.assertRaises(OwnershipError):
            picking.move_line_ids.filtered(lambda ml: not ml.picked).with_user(clerk).write(
                {"picked": True}
            )
        # another system cannot either (the core's rule)
        with self.assertRaises(OwnershipError):
            picked_line.with_context(**{CONTEXT_ORIGIN: self.market.id}).write({"quantity": 2})
        self.assertEqual(self._picked(picking), {("WID-1", None): 1})
        # the rule decides: while it names another owner, the WMS's own report is refused
        rule = self.env["logistics.sync.ownership.rule"].search(
            [("res_model", "=", "stock.move.line"), ("owner_system_id", "=", self.wms.id)]
        )
        rule.owner_system_id = self.market
        refused = self._confirm(picking, "picked", [self._line(self.product, 1)])
        self.assertEqual(refused.state, "error")
        self.assertIn("Test Market is the system of record", refused.error)
        self.assertEqual(self._picked(picking), {("WID-1", None): 1})
        rule.owner_system_id = self.wms
        # the WMS itself reports more
        self.assertEqual(
            self._confirm(picking, "picked", [self._line(self.product, 1)]).state, "applied"
        )
        self.assertEqual(sum(self._picked(picking).values()), 2)

    def test_unknown_sku_is_quarantined_never_guessed_then_applied_once_mapped(self):
        picking = self._delivery(quantity=2)
        confirmation = self._confirm(
            picking, "picked", [self._line(self.product, 1), {"sku": "WMS-777", "quantity": 1}]
        )
        self.assertEqual(confirmation.state, "quarantined")
        self.assertIn("WMS-777", confirmation.error)
        quarantine = self.env["logistics.sync.code.quarantine"].search(
            [("system_id", "=", self.wms.id), ("external_code", "=", "WMS-777")]
        )
        self.assertEqual(quarantine.domain, "sku")
        self.assertEqual(self._picked(picking), {})  # nothing of it applied
        self.assertEqual(picking.logistics_sync_wms_state, "error")
        quarantine.canonical_value = "WID-1"
        quarantine.action_map()
        confirmation.action_retry()
        self.assertEqual(confirmation.state, "applied", confirmation.error)
        self.assertEqual(self._picked(picking), {("WID-1", None): 2})
        self.assertEqual(picking.logistics_sync_wms_state, "picked")

    def test_unknown_lot_and_location_are_quarantined(self):
        picking = self._delivery(quantity=2, product=self.lot_product)
        confirmation = self._confirm(
            picking, "picked", [self._line(self.lot_product, 2, lot="ZZ-9", location="A-01-01")]
        )
        self.assertEqual(confirmation.state, "quarantined")
        codes = self.env["logistics.sync.code.quarantine"].search([("system_id", "=", self.wms.id)])
        self.assertEqual(
            set(codes.mapped(lambda q: (q.domain, q.external_code))),
            {("lot", "ZZ-9"), ("location", "A-01-01")},
        )
        self.assertEqual(self._picked(picking), {})

    def test_over_pick_is_an_error_record_and_nothing_is_applied(self):
        order = self._create_order(quantity=2)
        order.order_line.create(
            {"order_id": order.id, "product_id": self.lot_product.id, "product_uom_qty": 1}
        )
        order.action_confirm()
        picking = order.picking_ids
        confirmation = self._confirm(
            picking,
            "picked",
            [self._line(self.lot_product, 1, lot="LA-1"), self._line(self.product, 3)],
        )
        self.assertEqual(confirmation.state, "error")
        self.assertIn("Over-pick", confirmation.error)
        self.assertEqual(self._picked(picking), {})
        self.assertEqual(picking.logistics_sync_wms_state, "error")
        self.assertIn("Over-pick", picking.logistics_sync_wms_last_error)
        confirmation.action_retry()
        self.assertEqual(confirmation.state, "error")
        self.assertEqual(confirmation.attempt_count, 2)
        confirmation.action_dismiss()
        self.assertEqual(picking.logistics_sync_wms_state, "requested")

    def test_unknown_fulfilment_is_an_error_record(self):
        confirmation = self.Confirmation._receive_confirmation(
            self.wms,
            {"fulfilment_id": "nope", "confirmation_id": "X-1", "stage": "picked", "lines": []},
            source="file",
            reference="DESADV_1.edi",
        )
        self.assertEqual(confirmation.state, "error")
        self.assertIn("does not know", confirmation.error)
        self.assertEqual(confirmation.reference, "DESADV_1.edi")
        # another system's fulfilment is as unknown
        picking = self._delivery()
        other = self.env["logistics.sync.system"].create(
            {"name": "Other 3PL", "code": "t_3pl", "kind": "3pl"}
        )
        foreign = self.Confirmation._receive_confirmation(
            other,
            {
                "fulfilment_id": picking.logistics_sync_wms_uid,
                "confirmation_id": "X-1",
                "stage": "picked",
            },
        )
        self.assertEqual(foreign.state, "error")
        self.assertFalse(foreign.fulfilment_id)

    def test_reservation_and_shortage_are_shown_and_announced_by_the_wms(self):
        picking = self._delivery(quantity=2)
        self.assertFalse(self._events(picking, "stock.reserved"))  # the WMS reserves, not Odoo
        Confirmation = self.Confirmation
        shortage = Confirmation._receive_reservation(
            self.wms,
            {
                "fulfilment_id": picking.logistics_sync_wms_uid,
                "reservation_id": "R-1",
                "status": "shortage",
                "lines": [{"sku": "WID-1", "quantity": 1}],
            },
        )
        self.assertEqual(shortage.state, "applied", shortage.error)
        self.assertEqual(picking.logistics_sync_wms_state, "shortage")
        self.assertIn("WID-1: 1 short", picking.logistics_sync_wms_reservation_note)
        [event] = self._events(picking, "stock.shortage")
        self.assertEqual(event.origin_system_id, self.wms)
        reserved = Confirmation._receive_reservation(
            self.wms,
            {
                "fulfilment_id": picking.logistics_sync_wms_uid,
                "reservation_id": "R-2",
                "status": "reserved",
            },
        )
        self.assertEqual(reserved.state, "applied")
        self.assertEqual(picking.logistics_sync_wms_state, "reserved")
        self.assertEqual(self._events(picking, "stock.reserved").origin_system_id, self.wms)

    def test_access_rights_on_confirmations(self):
        picking = self._delivery(quantity=2)
        confirmation = self._confirm(picking, "picked", [self._line(self.product, 9)])
        clerk = new_test_user(self.env, login="wh_reader2", groups="stock.group_stock_user")
        self.assertEqual(confirmation.with_user(clerk).state, "error")
        with self.assertRaises(AccessError):
            confirmation.with_user(clerk).action_retry()
        confirmation.with_user(self.user).action_retry()  # Logistics Sync users work errors
        self.assertEqual(confirmation.attempt_count, 2)
