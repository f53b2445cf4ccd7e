import json
from datetime import datetime, timedelta

from odoo.tests import tagged

from odoo.addons.logistics_sync_wms.tests.common import WmsCase

from .common import MonitorCase

T0 = datetime(2026, 11, 30, 8, 0, 0)


@tagged("post_install", "-at_install")
class TestWmsSources(WmsCase, MonitorCase):
    """WMS confirmations that cannot apply reach the desk; the WMS confirmation SLA."""

    def _over_pick(self):
        picking = self._delivery(quantity=2)
        confirmation = self._confirm(picking, "picked", [self._line(self.product, 3)])
        self.assertEqual(confirmation.state, "error")
        return picking, confirmation

    def test_a_confirmation_that_cannot_apply_opens_counts_and_resolves_when_applied(self):
        picking, confirmation = self._over_pick()
        [exception] = self._exceptions("wms_confirmation")
        self.assertEqual((exception.state, exception.occurrences), ("new", 1))
        self.assertEqual((exception.res_model, exception.res_id), ("stock.picking", picking.id))
        self.assertEqual(
            (exception.source_model, exception.source_id), (confirmation._name, confirmation.id)
        )
        self.assertEqual((exception.system_id, exception.warehouse_id), (self.wms, self.warehouse))
        self.assertIn("Over-pick", exception.detail)
        self.assertTrue(exception.can_retry)
        # Retry from the desk fails the same way: the same exception, one more occurrence
        exception.action_retry()
        self.assertEqual(confirmation.attempt_count, 2)
        self.assertEqual(self._exceptions("wms_confirmation"), exception)
        self.assertEqual((exception.state, exception.occurrences), ("new", 2))
        # the order now wants three: the confirmation applies, the exception resolves
        picking.sale_id.order_line.product_uom_qty = 3
        exception.action_retry()
        self.assertEqual(confirmation.state, "applied", confirmation.error)
        self.assertEqual((exception.state, exception.resolution), ("resolved", "auto"))

    def test_dismissing_the_confirmation_resolves_and_staff_see_their_warehouse(self):
        _picking, confirmation = self._over_pick()
        [exception] = self._exceptions("wms_confirmation")
        self.assertEqual(
            self.Exception.with_user(self.clerk).search([("kind", "=", "wms_confirmation")]),
            exception,
        )
        self.clerk.logistics_sync_warehouse_ids = self.warehouse_b
        self.assertFalse(
            self.Exception.with_user(self.clerk).search([("kind", "=", "wms_confirmation")])
        )
        confirmation.action_dismiss()
        self.assertEqual(exception.state, "resolved")

    def test_a_request_not_confirmed_in_time_breaches_until_confirmed(self):
        self.manager.email = "manager@example.com"
        self.wms.monitor_sla_wms_minutes = 60
        Sla = self.env["logistics.sync.sla"]
        with self._at(T0):
            picking = self._delivery(quantity=2)
        self.assertEqual(picking.logistics_sync_wms_fulfilment_id.requested_at, T0)
        with self._at(T0 + timedelta(minutes=59)):
            self.assertEqual(Sla._cron_check()["wms_confirmation"], 0)
        with self._at(T0 + timedelta(minutes=70)):
            self.assertEqual(Sla._cron_check()["wms_confirmation"], 1)
        [exception] = self.Exception.search([("dedup_key", "=like", "sla:wms_confirmation:%")])
        self.assertEqual((exception.system_id, exception.warehouse_id), (self.wms, self.warehouse))
        self.assertIn("within 60 minute(s)", exception.detail)
        self.assertIn("10 minute(s) ago", exception.detail)
        self.assertIn(self.manager, exception.activity_ids.user_id)
        [event] = self.env["logistics.sync.event"].search(
            [("type_code", "=", "sla.breached"), ("aggregate_id", "=", exception.id)]
        )
        self.assertEqual(event.payload["sla"], "wms_confirmation")
        event.event_type_id._validate(json.loads(json.dumps(event.payload)))
        # a pick confirmation meets it
        with self._at(T0 + timedelta(minutes=75)):
            picked = self._confirm(picking, "picked", [self._line(self.product, 2)])
        self.assertEqual(picked.state, "applied", picked.error)
        with self._at(T0 + timedelta(minutes=80)):
            self.assertEqual(Sla._cron_check()["wms_confirmation"], 0)
        self.assertEqual(exception.state, "resolved")
