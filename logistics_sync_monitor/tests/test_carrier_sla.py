import json
from datetime import datetime, timedelta

from odoo.tests import tagged

from .common import CarrierMonitorCase

T0 = datetime(2026, 11, 30, 8, 0, 0)


def at(hours):
    return T0 + timedelta(hours=hours)


@tagged("post_install", "-at_install")
class TestCarrierSla(CarrierMonitorCase):
    """Milestone SLAs of the carrier systems: booked within X minutes of validation, proof
    of delivery within Y hours of delivery, a tracking scan at least every Z hours."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Sla = cls.env["logistics.sync.sla"]
        cls.carrier_system.write(
            {
                "monitor_sla_booking_minutes": 30,
                "monitor_sla_pod_hours": 48,
                "monitor_sla_scan_hours": 24,
            }
        )
        cls.manager.email = "manager@example.com"

    def _check(self, code, hours):
        with self._at(at(hours)):
            return self.Sla._cron_check()[code]

    def _breach(self, code):
        return self.Exception.search(
            [("kind", "=", "sla_breach"), ("dedup_key", "=like", f"sla:{code}:%")]
        )

    def _announced(self, exception):
        return self.env["logistics.sync.event"].search(
            [
                ("type_code", "=", "sla.breached"),
                ("aggregate_model", "=", exception._name),
                ("aggregate_id", "=", exception.id),
            ]
        )

    def _assert_alerted(self, exception, code, count):
        """Activity and e-mail to the responsible, one sla.breached event."""
        self.assertEqual(exception.state, "new")
        self.assertEqual(exception.system_id, self.carrier_system)
        self.assertEqual(exception.warehouse_id, self.warehouse)
        self.assertIn(self.manager, exception.activity_ids.user_id)
        mails = self.env["mail.mail"].search(
            [("model", "=", exception._name), ("res_id", "=", exception.id)]
        )
        self.assertIn(self.manager.partner_id, mails.recipient_ids)
        [event] = self._announced(exception)
        self.assertEqual(event.payload["sla"], code)
        self.assertEqual(event.payload["late_records"], count)
        self.assertEqual(event.payload["system"], self.carrier_system.code)
        self.assertEqual(event.payload["warehouse"], self.warehouse.code)
        event.event_type_id._validate(json.loads(json.dumps(event.payload)))

    def test_a_transfer_not_booked_in_time_breaches_until_it_is_booked(self):
        picking = self._ready_delivery()
        with self._jobs() as jobs:
            with self._at(at(0)):
                self._validate(picking)  # the booking waits in the queue
            self.assertEqual(picking.logistics_sync_booking_state, "booking")
            self.assertEqual(self._check("booking", 0.45), 0)
            self.assertEqual(self._check("booking", 0.55), 1)
            exception = self._breach("booking")
            self._assert_alerted(exception, "booking", 1)
            self.assertIn("not booked within 30 minute(s)", exception.detail)
            self.assertIn("3 minute(s) ago", exception.detail)
            self.assertEqual(self._check("booking", 1), 1)
            self.assertEqual(len(self._announced(exception)), 1, "announced once")
            with self._at(at(1.1)):
                jobs.run()
        self.assertEqual(picking.logistics_sync_booking_state, "booked")
        self.assertEqual(self._check("booking", 1.2), 0)
        self.assertEqual((exception.state, exception.resolution), ("resolved", "auto"))

    def test_a_proof_of_delivery_overdue_breaches_until_it_arrives(self):
        with self._at(at(-1)):
            shipment = self._book(self._ready_delivery())
        self._track(shipment, "PU", at(0))
        self._track(shipment, "DLV", at(10))
        self.assertEqual(self._check("pod", 57), 0)
        self.assertEqual(self._check("pod", 59), 1)
        exception = self._breach("pod")
        self._assert_alerted(exception, "pod", 1)
        self.assertIn("without proof of delivery after 48 hour(s)", exception.detail)
        self.env["logistics.sync.pod"].create({"shipment_id": shipment.id, "signed_by": "Ann"})
        self.assertEqual(self._check("pod", 60), 0)
        self.assertEqual(exception.state, "resolved")

    def test_no_tracking_scan_for_too_long_breaches_until_the_next_scan(self):
        with self._at(at(-1)):
            shipment = self._book(self._ready_delivery())
            silent = self._book(self._ready_delivery())
        self._track(shipment, "PU", at(0))
        self._track(silent, "PU", at(2))
        self.assertEqual(self._check("scan", 23), 0)
        self.assertEqual(self._check("scan", 25), 1)
        exception = self._breach("scan")
        self._assert_alerted(exception, "scan", 1)
        self.assertEqual(self._check("scan", 27), 1)
        self.assertIn("2 shipment(s) without a tracking scan for over 24 hour(s)", exception.detail)
        self.assertEqual(len(self._announced(exception)), 1)
        self._track(shipment, "ITR", at(27.5))
        self._track(silent, "DLV", at(27.5))  # delivered: no more scan expected
        self.assertEqual(self._check("scan", 28), 0)
        self.assertEqual(exception.state, "resolved")
        # a carrier without the SLA is never checked
        self.carrier_system.monitor_sla_scan_hours = 0
        self.assertEqual(self._check("scan", 80), 0)
