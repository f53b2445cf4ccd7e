from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import tools
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.logistics_sync_webhook.tests.inbound_common import SECRET

from .common import CarrierCase

T0 = datetime(2026, 11, 30, 8, 0, 0)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


@tagged("post_install", "-at_install")
class TestTracking(HttpCase, CarrierCase):
    """Milestones and proofs of delivery pushed by the sandbox carrier as signed webhooks
    through the real HTTP server, or read by the poll fallback."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.carrier_system.inbound_auth = "standard"
        cls.env["logistics.sync.secret"].create(
            {"system_id": cls.carrier_system.id, "name": "inbound_signing", "value": SECRET}
        )
        cls.sandbox.webhook_secret = SECRET
        cls.sandbox.webhook_url = (
            f"http://127.0.0.1:{tools.config['http_port']}"
            f"/logistics_sync/webhook/{cls.carrier_system.code}"
        )
        cls.Inbound = cls.env["logistics.sync.inbound.message"]

    def setUp(self):
        super().setUp()
        self.picking = self._ready_delivery()
        with freeze_time(at(-60)):  # booked an hour before the parcel is picked up
            self.shipment = self._book(self.picking)
        self.assertEqual(self.shipment.state, "booked")

    def _push(self, code, minutes, **kwargs):
        status = self.sandbox.push(
            self.shipment.carrier_ref, code, occurred_at=at(minutes), **kwargs
        )
        self.assertEqual(status, 202)

    def _apply(self):
        """Apply what the carrier pushed, as the system's drain job does."""
        messages = self.Inbound.search(
            [("system_id", "=", self.carrier_system.id), ("state", "=", "received")],
            order="id",
        )
        with self._jobs() as jobs:
            messages.process()
            jobs.run()
        return messages

    def _carrier_milestones(self):
        return self.shipment.milestone_ids.filtered(lambda m: m.source != "odoo").sorted(
            "occurred_at"
        )

    def test_milestones_in_order_update_the_status_and_announce_once(self):
        for minutes, code in enumerate(("PU", "ITR", "OFD", "DLV")):
            self._push(code, minutes * 60)
        self.assertEqual(set(self._apply().mapped("state")), {"done"})
        self.assertEqual(
            self._carrier_milestones().mapped("milestone"),
            ["picked_up", "in_transit", "out_for_delivery", "delivered"],
        )
        self.assertEqual(self.shipment.status, "delivered")
        self.assertEqual(self.shipment.delivered_at, at(180))
        self.assertEqual(self.shipment.dispatched_at, at(0))
        self.assertEqual(self.picking.logistics_sync_tracking_status, "delivered")
        dispatched = self._events(self.picking, "shipment.dispatched")
        delivered = self._events(self.picking, "shipment.delivered")
        self.assertEqual((len(dispatched), len(delivered)), (1, 1))
        self.assertEqual(delivered.payload["status"], "delivered")
        self.assertEqual(delivered.origin_system_id, self.carrier_system, "no echo to the carrier")
        self.assertLess(dispatched.sequence, delivered.sequence)
        timeline = self.picking.logistics_sync_timeline
        self.assertIn("Out for delivery", timeline)
        self.assertLess(timeline.index("Delivered"), timeline.index("Picked up"), "newest first")

    def test_an_older_milestone_arriving_late_never_overrides_a_newer_state(self):
        self._push("DLV", 120)
        self._push("ITR", 30)
        self._apply()
        self.assertEqual(self.shipment.status, "delivered")
        self.assertEqual(self.shipment.status_at, at(120))
        self.assertEqual(
            self._carrier_milestones().mapped("milestone"),
            ["in_transit", "delivered"],
            "the late one is kept as history",
        )
        self.assertEqual(len(self._events(self.picking, "shipment.dispatched")), 1)
        self.assertEqual(len(self._events(self.picking, "shipment.delivered")), 1)

    def test_duplicate_reports_are_absorbed(self):
        event, status = self.sandbox.add_event(self.shipment.carrier_ref, "ITR", at(10))
        self.assertEqual(status, 202)
        data = {"shipment_id": self.shipment.carrier_ref, **event}
        # the same event again under a new message id, and the same message id again
        self.assertEqual(self.sandbox._push("shipment.tracking", data), 202)
        self.assertEqual(self.sandbox._push("shipment.tracking", data, "msg_same"), 202)
        self.assertEqual(self.sandbox._push("shipment.tracking", data, "msg_same"), 200)
        self.assertEqual(len(self._apply()), 3)
        self.assertEqual(len(self._carrier_milestones()), 1)
        self.assertEqual(len(self._events(self.picking, "shipment.dispatched")), 1)

    @mute_logger("odoo.addons.logistics_sync_webhook.models.logistics_sync_inbound_message")
    def test_unknown_tracking_code_is_quarantined_never_guessed(self):
        self._push("ZZZ", 5)
        message = self._apply()
        self.assertEqual(message.state, "error")
        self.assertIn("ZZZ", message.error)
        quarantined = self.env["logistics.sync.code.quarantine"].search(
            [("system_id", "=", self.carrier_system.id), ("external_code", "=", "ZZZ")]
        )
        self.assertEqual((quarantined.domain, quarantined.state), ("status", "new"))
        self.assertFalse(self._carrier_milestones())
        quarantined.canonical_value = "exception"
        quarantined.action_map()
        message.action_retry()
        message.process()
        self.assertEqual(message.state, "done")
        self.assertEqual(self._carrier_milestones().mapped("milestone"), ["exception"])

    def test_failed_delivery_is_announced_with_its_reason(self):
        self._push("NDL", 60, reason="Recipient absent")
        self._apply()
        self.assertEqual(self.shipment.status, "delivery_failed")
        failed = self._events(self.picking, "shipment.delivery_failed")
        self.assertEqual(failed.payload["reason"], "Recipient absent")

    def test_proof_of_delivery_pushed_by_the_carrier(self):
        pod, status = self.sandbox.deliver_with_pod(
            self.shipment.carrier_ref, signed_by="Ann Lee", occurred_at=at(200)
        )
        self.assertEqual(status, 202)
        self._apply()
        record = self.shipment.pod_ids
        self.assertEqual(len(record), 1)
        self.assertEqual(
            (record.signed_by, record.signed_at, record.source), ("Ann Lee", at(200), "carrier")
        )
        self.assertEqual(record.external_ref, pod["pod_id"])
        self.assertTrue(record.signature)
        self.assertEqual(len(record.attachment_ids), 1)
        self.assertTrue(record.attachment_ids.raw.startswith(b"%PDF"))
        self.assertEqual(self.picking.logistics_sync_pod_ids, record)
        order = self.picking.sale_id
        self.assertEqual(order.logistics_sync_pod_count, 1)
        self.assertEqual(order.action_logistics_sync_view_pods()["res_id"], record.id)
        received = self._events(self.picking, "pod.received")
        self.assertEqual(received.payload["signed_by"], "Ann Lee")
        # the carrier sending it again stores nothing new
        data = {"shipment_id": self.shipment.carrier_ref, **pod}
        self.assertEqual(self.sandbox._push("shipment.pod", data), 202)
        self._apply()
        self.assertEqual(len(self.shipment.pod_ids), 1)
        self.assertEqual(len(self._events(self.picking, "pod.received")), 1)

    def test_late_proof_of_delivery_is_flagged_and_cleared_by_a_user_entry(self):
        self._push("DLV", 0)
        self._apply()
        Shipment = self.env["logistics.sync.shipment"]
        with freeze_time(at(23 * 60)):
            self.assertEqual(Shipment._cron_flag_late_pod(), 0)
        with freeze_time(at(25 * 60)):
            self.assertEqual(Shipment._cron_flag_late_pod(), 1)
        self.assertTrue(self.shipment.pod_late)
        action = self.picking.action_logistics_sync_register_pod()
        pod = (
            self.env["logistics.sync.pod"]
            .with_context(**action["context"])
            .create({"signed_by": "Front desk", "place": "Reception"})
        )
        self.assertEqual(pod.shipment_id, self.shipment)
        self.assertEqual(pod.source, "user")
        self.assertFalse(self.shipment.pod_late)
        self.assertEqual(self._events(self.picking, "pod.received").payload["source"], "user")

    def test_poll_fallback_reads_tracking_for_carriers_that_do_not_push(self):
        self.carrier_system.carrier_poll_minutes = 15
        self.sandbox.add_event(self.shipment.carrier_ref, "PU", at(0), push=False)
        self.sandbox.deliver_with_pod(self.shipment.carrier_ref, push=False, occurred_at=at(90))
        Shipment = self.env["logistics.sync.shipment"]
        with freeze_time(at(100)), self._jobs() as jobs:
            self.assertEqual(Shipment._cron_poll_tracking(), 1)
            jobs.run()
        self.assertEqual(self._carrier_milestones().mapped("milestone"), ["picked_up", "delivered"])
        self.assertEqual(self.shipment.status, "delivered")
        self.assertEqual(len(self.shipment.pod_ids), 1)
        self.assertEqual(self.shipment.pod_ids.source, "carrier")
        with freeze_time(at(105)), self._jobs() as jobs:
            self.assertEqual(Shipment._cron_poll_tracking(), 0, "not due before 15 minutes")
        # a delivered shipment is not polled again
        with freeze_time(at(120)), self._jobs() as jobs:
            self.assertEqual(Shipment._cron_poll_tracking(), 0)
        self.assertEqual(self.sandbox.stats()["tracking_queries"], 1)

    @mute_logger("odoo.addons.logistics_sync_webhook.models.logistics_sync_inbound_message")
    def test_tracking_for_an_unknown_shipment_is_a_visible_error(self):
        other = self.sandbox._book({"ship_to": {"zip": "1000"}}, "not-ours")[1]
        self.sandbox.add_event(other["id"], "PU", at(0))
        message = self._apply()
        self.assertEqual(message.state, "error")
        self.assertIn("which Odoo does not know", message.error)
