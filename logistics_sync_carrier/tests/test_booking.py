from psycopg2.errors import UniqueViolation

from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from .common import CarrierCase


@tagged("post_install", "-at_install")
class TestBooking(CarrierCase):
    def test_validation_books_through_the_live_carrier_with_labels(self):
        picking = self._ready_delivery()
        shipment = self._book(picking)
        self.assertEqual(shipment.state, "booked")
        self.assertEqual(shipment.saga_id.state, "done")
        self.assertEqual(
            shipment.saga_id.step_ids.mapped("name"),
            ["book", "fetch_labels", "attach_labels", "announce"],
        )
        at_carrier = self.sandbox.shipments[shipment.carrier_ref]
        self.assertEqual(at_carrier["reference"], shipment.reference)
        self.assertEqual(at_carrier["service"], "EXP-24", "the service went through the code map")
        self.assertEqual(at_carrier["ship_to"]["zip"], "1000")
        self.assertEqual(picking.carrier_tracking_ref, at_carrier["tracking_number"])
        label = picking.logistics_sync_label_ids
        self.assertEqual(len(label), 1)
        self.assertEqual((label.res_model, label.res_id), ("stock.picking", picking.id))
        self.assertEqual(label.mimetype, "application/pdf")
        self.assertTrue(label.raw.startswith(b"%PDF"))
        self.assertEqual(picking.logistics_sync_booking_state, "booked")
        booked = self._events(picking, "shipment.booked")
        self.assertEqual(len(booked), 1)
        self.assertEqual(booked.payload["tracking_number"], shipment.tracking_number)
        self.assertEqual(booked.payload["shipment_id"], shipment.reference)
        self.assertTrue(booked.payload["packages"][0]["label"])
        self.assertEqual(self.sandbox.stats()["bookings"], 1)
        # the picking's events are one aggregate: validated, then booked
        self.assertLess(self._events(picking, "picking.validated").sequence, booked.sequence)

    def test_validation_returns_before_the_carrier_is_called(self):
        self.sandbox.delay = 1.0  # a slow carrier
        picking = self._ready_delivery()
        with self._jobs() as jobs:
            self._validate(picking)
            self.assertEqual(picking.state, "done")
            self.assertEqual(
                self.sandbox.received(), [], "validation did not talk to the carrier at all"
            )
            shipment = picking.logistics_sync_shipment_id
            self.assertEqual(shipment.state, "booking")
            self.assertEqual(picking.logistics_sync_booking_state, "booking")
            steps = [j for j in jobs.enqueued_jobs if j.method_name == "run_next_step"]
            self.assertEqual(len(steps), 1)
            self.assertEqual(steps[0].channel, "root.logistics_sync.saga.t_carrier")
            jobs.run()
        self.assertEqual(shipment.state, "booked")
        self.assertEqual(len(self.sandbox.received("/v1/shipments")), 2)  # booking + label

    def test_batch_validation_is_not_blocked_by_a_rejected_booking(self):
        served = self._ready_delivery()
        refused_partner = self.partner.copy({"zip": "99999"})
        refused = self._ready_delivery(partner=refused_partner)
        self.express.logistics_sync_fallback_ids = False
        self.sandbox.reject_zips.add("99999")
        with self._jobs() as jobs:
            self._validate(served | refused)
            self.assertEqual((served | refused).mapped("state"), ["done", "done"])
            jobs.run()
        self.assertEqual(served.logistics_sync_booking_state, "booked")
        self.assertEqual(refused.logistics_sync_booking_state, "failed")

    def test_a_retried_booking_makes_one_shipment_at_the_carrier(self):
        self.sandbox.drop_booking_answers = 1  # booked, but the answer is lost
        picking = self._ready_delivery()
        shipment = self._book(picking)
        book = shipment.saga_id.step_ids.filtered(lambda s: s.name == "book")
        self.assertEqual(book.attempts, 2, "the lost answer made the step wait and retry")
        self.assertEqual(shipment.state, "booked")
        stats = self.sandbox.stats()
        self.assertEqual(stats["booking_requests"], 2)
        self.assertEqual(stats["bookings"], 1, "the same reference booked once")
        self.assertEqual(
            {
                r["headers"].get("Idempotency-Key")
                for r in self.sandbox.received("/v1/shipments")
                if r["method"] == "POST"
            },
            {shipment.reference},
        )

    def test_transient_failures_wait_and_retry_then_book(self):
        self.sandbox.fail_next = 2  # two 503 with Retry-After
        picking = self._ready_delivery()
        shipment = self._book(picking)
        self.assertEqual(shipment.state, "booked")
        book = shipment.saga_id.step_ids.filtered(lambda s: s.name == "book")
        self.assertEqual((book.state, book.attempts), ("done", 3))
        self.assertFalse(self._events(picking, "shipment.booking_failed"))

    @mute_logger("odoo.addons.logistics_sync_core.models.logistics_sync_saga")
    def test_rejection_leaves_a_visible_failure_an_activity_and_an_event(self):
        self.express.logistics_sync_fallback_ids = False
        self.sandbox.reject_zips.add("1000")
        picking = self._ready_delivery()
        shipment = self._book(picking)
        self.assertEqual(shipment.state, "failed")
        self.assertEqual(shipment.failure_reason, "postcode 1000 is not served")
        self.assertEqual(picking.logistics_sync_booking_state, "failed")
        self.assertEqual(picking.logistics_sync_failure_reason, "postcode 1000 is not served")
        self.assertFalse(picking.carrier_tracking_ref)
        self.assertFalse(picking.logistics_sync_label_ids)
        activity = picking.activity_ids.filtered(lambda a: a.summary == "Carrier booking failed")
        self.assertEqual(len(activity), 1)
        self.assertIn("postcode 1000 is not served", activity.note)
        failed = self._events(picking, "shipment.booking_failed")
        self.assertEqual(failed.payload["reason"], "postcode 1000 is not served")
        self.assertEqual(self.sandbox.stats()["bookings"], 0)

    @mute_logger("odoo.addons.logistics_sync_core.models.logistics_sync_saga")
    def test_failure_after_booking_compensates_in_reverse_order(self):
        self.express.logistics_sync_fallback_ids = False
        picking = self._ready_delivery()
        with self._jobs() as jobs:
            self._validate(picking)
            shipment = picking.logistics_sync_shipment_id
            self.sandbox.label_errors.add(shipment.reference)
            jobs.run()
        self.assertEqual(shipment.state, "failed")
        self.assertEqual(shipment.failure_reason, "label service failed")
        log = shipment.saga_id.step_ids.sorted("id")
        self.assertEqual(
            [(s.name, s.kind, s.state) for s in log],
            [
                ("book", "action", "done"),
                ("fetch_labels", "action", "failed"),
                ("book", "compensation", "done"),
            ],
        )
        self.assertEqual(
            self.sandbox.shipments[shipment.carrier_ref]["status"],
            "cancelled",
            "nothing is left booked at the carrier",
        )
        self.assertFalse(picking.carrier_tracking_ref)
        self.assertFalse(self._events(picking, "shipment.booked"))
        self.assertEqual(len(self._events(picking, "shipment.booking_failed")), 1)

    @mute_logger("odoo.addons.logistics_sync_core.models.logistics_sync_saga")
    def test_rejected_booking_falls_back_to_the_next_carrier(self):
        self.sandbox.reject_zips.add("1000")
        picking = self._ready_delivery()
        shipments = self._book(picking)
        self.assertEqual(shipments.mapped("state"), ["failed", "booked"])
        self.assertEqual(shipments.mapped("carrier_id"), self.express | self.backup)
        self.assertEqual(picking.carrier_id, self.backup)
        self.assertEqual(picking.logistics_sync_shipment_id, shipments[1])
        self.assertEqual(self.backup_sandbox.stats()["bookings"], 1)
        self.assertEqual(picking.carrier_tracking_ref, shipments[1].tracking_number)
        self.assertEqual(
            [e.type_code for e in self._events(picking) if e.type_code.startswith("shipment.")],
            ["shipment.booking_failed", "shipment.booked"],
        )
        self.assertEqual(shipments[1].primary_carrier_id, self.express)

    @mute_logger("odoo.addons.logistics_sync_core.models.logistics_sync_saga")
    def test_every_carrier_rejecting_ends_with_each_tried_once(self):
        self.sandbox.reject_zips.add("1000")
        self.backup_sandbox.reject_zips.add("1000")
        picking = self._ready_delivery()
        shipments = self._book(picking)
        self.assertEqual(shipments.mapped("state"), ["failed", "failed"])
        self.assertEqual(picking.logistics_sync_booking_state, "failed")
        self.assertEqual(len(self._events(picking, "shipment.booking_failed")), 2)

    def test_one_open_booking_per_transfer(self):
        picking = self._ready_delivery()
        with self._jobs() as jobs:
            first = picking._logistics_sync_book()
            again = picking._logistics_sync_book()
            self.assertEqual(first, again)
            self.assertEqual(
                len([j for j in jobs.enqueued_jobs if j.method_name == "run_next_step"]), 1
            )
            jobs.run()
        with (
            self.assertRaises(UniqueViolation),
            self.env.cr.savepoint(),
            mute_logger("odoo.sql_db"),
        ):
            # the database refuses a second open booking, whatever the code does
            self.env["logistics.sync.shipment"].create(
                {"name": "twin", "picking_id": picking.id, "carrier_id": self.express.id}
            )

    def test_packages_get_one_label_each(self):
        other = self.env["product.product"].create(
            {"name": "Gadget", "default_code": "GAD-1", "is_storable": True, "weight": 0.5}
        )
        self.env["stock.quant"]._update_available_quantity(other, self.warehouse.lot_stock_id, 10)
        order = self._create_order(quantity=2)
        order.order_line = [(0, 0, {"product_id": other.id, "product_uom_qty": 3})]
        order.action_confirm()
        picking = order.picking_ids
        picking.carrier_id = self.express
        widget_line = picking.move_line_ids.filtered(lambda ml: ml.product_id == self.product)
        widget_line.picked = True
        packed = picking.action_put_in_pack()
        if isinstance(packed, dict):  # stock_delivery asks for the package type first
            wizard = self.env[packed["res_model"]].with_context(**packed["context"]).create({})
            wizard.action_put_in_pack()
        self.assertTrue(widget_line.result_package_id)
        shipment = self._book(picking)
        self.assertEqual(shipment.state, "booked")
        self.assertEqual(len(shipment.package_ids), 2, "one packed parcel, one unpacked")
        self.assertEqual(shipment.package_ids[0].package_id, widget_line.result_package_id)
        self.assertEqual(len(picking.logistics_sync_label_ids), 2)
        numbers = shipment.package_ids.mapped("tracking_number")
        self.assertEqual(len(set(numbers)), 2)
        self.assertEqual(picking.carrier_tracking_ref, ",".join(numbers))
        action = picking.action_logistics_sync_print_labels()
        merged = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        self.assertTrue(merged.raw.startswith(b"%PDF"))
        self.assertNotIn(merged, picking.logistics_sync_label_ids, "one PDF of both labels")


@tagged("post_install", "-at_install")
class TestCancellation(CarrierCase):
    def test_cancelling_a_booking_cancels_it_at_the_carrier(self):
        picking = self._ready_delivery()
        shipment = self._book(picking)
        with self._jobs() as jobs:
            picking.cancel_shipment()
            self.assertEqual(shipment.state, "cancelling")
            self.assertEqual(self.sandbox.stats()["cancellations"], 0, "in the background")
            jobs.run()
        self.assertEqual(shipment.state, "cancelled")
        self.assertEqual(self.sandbox.shipments[shipment.carrier_ref]["status"], "cancelled")
        self.assertFalse(picking.carrier_tracking_ref)
        self.assertEqual(len(self._events(picking, "shipment.cancelled")), 1)

    def test_cancellation_retries_a_carrier_that_does_not_answer(self):
        picking = self._ready_delivery()
        shipment = self._book(picking)
        self.sandbox.fail_next = 2
        with self._jobs() as jobs:
            shipment.action_cancel_booking()
            jobs.run()
        self.assertEqual(shipment.state, "cancelled")
        self.assertEqual(shipment.cancel_saga_id.step_ids.attempts, 3)

    @mute_logger("odoo.addons.logistics_sync_core.models.logistics_sync_saga")
    def test_a_refused_cancellation_is_a_visible_exception(self):
        picking = self._ready_delivery()
        shipment = self._book(picking)
        self.sandbox.refuse_cancel = True
        with self._jobs() as jobs:
            shipment.action_cancel_booking()
            jobs.run()
        self.assertEqual(shipment.state, "cancel_failed")
        self.assertEqual(shipment.failure_reason, "the parcel was already picked up")
        self.assertEqual(picking.logistics_sync_booking_state, "cancel_failed")
        self.assertTrue(
            picking.activity_ids.filtered(lambda a: a.summary == "Carrier cancellation refused")
        )
        self.assertEqual(self.sandbox.shipments[shipment.carrier_ref]["status"], "booked")
        self.assertFalse(self._events(picking, "shipment.cancelled"))
        # once the carrier agrees, cancelling again works
        self.sandbox.refuse_cancel = False
        with self._jobs() as jobs:
            shipment.action_cancel_booking()
            jobs.run()
        self.assertEqual(shipment.state, "cancelled")

    def test_cancelling_the_transfer_cancels_a_booking_made_before_validation(self):
        picking = self._ready_delivery()
        with self._jobs() as jobs:
            picking.action_logistics_sync_book()
            jobs.run()
        shipment = picking.logistics_sync_shipment_id
        self.assertEqual(shipment.state, "booked")
        self.assertEqual(picking.state, "assigned")
        with self._jobs() as jobs:
            picking.action_cancel()
            jobs.run()
        self.assertEqual(picking.state, "cancel")
        self.assertEqual(shipment.state, "cancelled")
        self.assertEqual(self.sandbox.shipments[shipment.carrier_ref]["status"], "cancelled")

    @mute_logger("odoo.addons.logistics_sync_core.models.logistics_sync_saga")
    def test_cancelling_while_booking_undoes_the_booking(self):
        picking = self._ready_delivery()
        with self._jobs() as jobs:
            picking.action_logistics_sync_book()
            shipment = picking.logistics_sync_shipment_id
            jobs.run(rounds=1)  # the booking is made at the carrier
            picking.action_cancel()
            self.assertTrue(shipment.cancel_requested)
            jobs.run()
        self.assertEqual(shipment.state, "failed")
        self.assertEqual(self.sandbox.shipments[shipment.carrier_ref]["status"], "cancelled")
        self.assertEqual(len(self._events(picking, "shipment.cancelled")), 1)
        self.assertFalse(self._events(picking, "shipment.booking_failed"))


@tagged("post_install", "-at_install")
class TestCarrierAccess(CarrierCase):
    def test_a_warehouse_user_books_and_sees_labels_but_not_the_credentials(self):
        clerk = new_test_user(
            self.env, login="ls_clerk", groups="base.group_user,stock.group_stock_user"
        )
        picking = self._ready_delivery()
        shipment = self._book(picking.with_user(clerk))
        self.assertEqual(shipment.state, "booked")
        as_clerk = picking.with_user(clerk)
        self.assertEqual(as_clerk.logistics_sync_booking_state, "booked")
        label = as_clerk.logistics_sync_label_ids
        self.assertTrue(label.raw.startswith(b"%PDF"), "the clerk reads the label")
        self.assertTrue(as_clerk.action_logistics_sync_print_labels()["url"])
        with self.assertRaises(AccessError):
            self.env["logistics.sync.secret"].with_user(clerk).search_read([], ["value"])
        with self.assertRaises(AccessError):
            self.carrier_system.with_user(clerk).read(["secret_ids"])
        self.assertNotIn(
            "sandbox-api-key",
            str(shipment.with_user(clerk).read()),
            "nothing a clerk reads carries the key",
        )
        # the clerk's forms open (every field they show is readable to a clerk)
        Form(picking.with_user(clerk))
        Form(shipment.with_user(clerk))


@tagged("post_install", "-at_install")
class TestRatesAndReturns(CarrierCase):
    def test_rate_on_the_sale_order_asks_the_carrier(self):
        order = self._create_order(quantity=2)
        rate = self.express.rate_shipment(order)
        self.assertTrue(rate["success"], rate)
        # the sandbox's price: 4.9 + 1.2 per kg (2 x 1.5 kg) + 3.0 for the express service
        self.assertAlmostEqual(rate["price"], 11.5, places=2)
        sent = self.sandbox.received("/v1/rates")[0]["body"]
        self.assertEqual(sent["service"], "EXP-24")
        self.assertEqual(sent["ship_to"]["zip"], "1000")
        self.sandbox.reject_services.add("EXP-24")
        refused = self.express.rate_shipment(order)
        self.assertFalse(refused["success"])
        self.assertEqual(refused["error_message"], "service not offered")

    def test_return_label_for_a_return_of_a_booked_delivery(self):
        picking = self._ready_delivery()
        shipment = self._book(picking)
        self.assertTrue(self.express.can_generate_return)
        wizard = (
            self.env["stock.return.picking"]
            .with_context(active_id=picking.id, active_model="stock.picking")
            .create({})
        )
        wizard.product_return_moves.quantity = 1
        returned = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        returned.carrier_id = self.express
        returned.print_return_label()
        returned.invalidate_recordset(["return_label_ids"])  # Odoo computes it once, no depends
        label = returned.return_label_ids
        self.assertEqual(len(label), 1)
        self.assertTrue(label.name.startswith("LabelReturn-ls_json-R"))
        self.assertTrue(label.raw.startswith(b"%PDF"))
        self.assertEqual(self.sandbox.stats()["returns"], 1)
        self.assertEqual(
            self.sandbox.received("/v1/shipments/")[-1]["path"],
            f"/v1/shipments/{shipment.carrier_ref}/return",
        )
