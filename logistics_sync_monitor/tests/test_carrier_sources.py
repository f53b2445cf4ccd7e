from datetime import datetime, timedelta

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CarrierMonitorCase

T0 = datetime(2026, 11, 30, 8, 0, 0)
SAGA_LOGGER = "odoo.addons.logistics_sync_core.models.logistics_sync_saga"


@tagged("post_install", "-at_install")
class TestCarrierSources(CarrierMonitorCase):
    """Booking failures, refused cancellations, failed deliveries and late proofs of
    delivery reach the desk from the carrier's real answers, count their recurrences and
    resolve when their cause goes away."""

    @mute_logger(SAGA_LOGGER)
    def test_rejected_by_every_carrier_one_exception_counted_then_resolved_by_a_retry(self):
        self.sandbox.reject_zips.add("1000")
        self.backup_sandbox.reject_zips.add("1000")
        picking = self._ready_delivery()
        first, second = self._book(picking)
        self.assertEqual((first.state, second.state), ("failed", "failed"))
        [exception] = self._exceptions("booking_failed")
        self.assertEqual(exception.occurrences, 2, "the fallback's rejection counts, no second")
        self.assertEqual((exception.res_model, exception.res_id), ("stock.picking", picking.id))
        self.assertEqual(exception.warehouse_id, self.warehouse)
        self.assertEqual(exception.severity, "high")
        self.assertEqual(exception.detail, "postcode 1000 is not served")
        self.assertTrue(exception.can_retry)
        self.assertFalse(self._exceptions("saga_failed"), "the shipment's exception says it")
        # the carrier accepts again: Retry from the exception books, and that resolves it
        self.backup_sandbox.reject_zips.clear()
        with self._jobs() as jobs:
            exception.with_user(self.clerk).action_retry()
            jobs.run()
        self.assertEqual(picking.logistics_sync_booking_state, "booked")
        self.assertEqual((exception.state, exception.resolution), ("resolved", "auto"))

    @mute_logger(SAGA_LOGGER)
    def test_a_fallback_that_books_resolves_the_rejection(self):
        self.sandbox.reject_zips.add("1000")
        picking = self._ready_delivery()
        self.assertEqual(self._book(picking).mapped("state"), ["failed", "booked"])
        [exception] = self._exceptions("booking_failed")
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(exception.resolution_note, "A booking of this transfer succeeded.")
        # the reconciliation cron agrees (it re-reads the rejected shipment)
        exception.action_reopen()
        self.assertEqual(self.Exception._cron_reconcile(), 1)
        self.assertEqual(exception.state, "resolved")

    @mute_logger(SAGA_LOGGER)
    def test_refused_cancellation_opens_counts_and_resolves_when_cancelled(self):
        picking = self._ready_delivery()
        shipment = self._book(picking)
        self.sandbox.refuse_cancel = True
        for _attempt in range(2):
            with self._jobs() as jobs:
                shipment.action_cancel_booking()
                jobs.run()
        self.assertEqual(shipment.state, "cancel_failed")
        [exception] = self._exceptions("cancel_refused")
        self.assertEqual((exception.state, exception.occurrences), ("new", 2))
        self.assertEqual(exception.detail, "the parcel was already picked up")
        self.assertEqual(
            (exception.source_model, exception.source_id), (shipment._name, shipment.id)
        )
        self.sandbox.refuse_cancel = False
        with self._jobs() as jobs:
            exception.action_retry()
            jobs.run()
        self.assertEqual(shipment.state, "cancelled")
        self.assertEqual((exception.state, exception.resolution), ("resolved", "auto"))

    def _booked(self, picking=None):
        with self._at(T0 - timedelta(hours=1)):
            return self._book(picking or self._ready_delivery())

    def test_failed_deliveries_count_on_one_exception_until_delivered(self):
        shipment = self._booked()
        self._track(shipment, "PU", T0)
        self.assertFalse(self._exceptions("delivery_failed"))
        self._track(shipment, "NDL", T0 + timedelta(hours=20), reason="Recipient absent")
        [exception] = self._exceptions("delivery_failed")
        self._track(shipment, "OFD", T0 + timedelta(hours=44))
        self._track(
            shipment, "NDL", T0 + timedelta(hours=45), reason="Address closed", location="Brussels"
        )
        self.assertEqual(self._exceptions("delivery_failed"), exception)
        self.assertEqual((exception.state, exception.occurrences), ("new", 2))
        self.assertIn("2 failed delivery attempt(s)", exception.detail)
        self.assertIn("at Brussels: Address closed", exception.detail)
        # a report seen twice is absorbed by the milestones' UNIQUE key: no extra count
        self._track(
            shipment, "NDL", T0 + timedelta(hours=45), reason="Address closed", location="Brussels"
        )
        self.assertEqual(exception.occurrences, 2)
        self._track(shipment, "DLV", T0 + timedelta(hours=68))
        self.assertEqual((exception.state, exception.resolution), ("resolved", "auto"))

    def test_late_proof_of_delivery_opens_and_the_proof_resolves(self):
        picking = self._ready_delivery()
        shipment = self._booked(picking)
        self._track(shipment, "DLV", T0)
        with self._at(T0 + timedelta(hours=25)):
            self.assertEqual(self.Shipment._cron_flag_late_pod(), 1)
        [exception] = self._exceptions("pod_late")
        self.assertEqual((exception.res_model, exception.res_id), ("stock.picking", picking.id))
        self.assertIn("within 24 hour(s)", exception.detail)
        self.env["logistics.sync.pod"].create(
            {"shipment_id": shipment.id, "signed_by": "Front desk"}
        )
        self.assertFalse(shipment.pod_late)
        self.assertEqual((exception.state, exception.resolution), ("resolved", "auto"))

    @mute_logger(SAGA_LOGGER)
    def test_warehouse_staff_see_the_carrier_exceptions_of_their_warehouses_only(self):
        self.sandbox.reject_zips.add("1000")
        self.backup_sandbox.reject_zips.add("1000")
        mine = self._ready_delivery()
        order = self._create_order()
        order.warehouse_id = self.warehouse_b
        order.action_confirm()
        theirs = order.picking_ids
        theirs.carrier_id = self.express
        self._book(mine)
        self._book(theirs)
        exceptions = self._exceptions("booking_failed")
        self.assertEqual(len(exceptions), 2)
        visible = self.Exception.with_user(self.clerk).search([("kind", "=", "booking_failed")])
        self.assertEqual(visible.mapped("res_id"), [mine.id])
        self.assertEqual(
            self.Exception.with_user(self.manager).search_count([("kind", "=", "booking_failed")]),
            2,
        )
