from datetime import datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import CarrierMonitorCase

NOW = datetime(2026, 11, 30, 12, 0, 0)


@tagged("post_install", "-at_install")
class TestCarrierDashboard(HttpCase, CarrierMonitorCase):
    """The carrier tiles, graph, metrics and summary lines against the records they count:
    rejected bookings in two warehouses, a refused cancellation, a late proof of delivery."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the tiles open transfers: their readers work in Inventory
        (cls.clerk | cls.manager).groups_id |= cls.env.ref("stock.group_stock_user")

    @mute_logger("odoo.addons.logistics_sync_core.models.logistics_sync_saga")
    def setUp(self):
        super().setUp()
        self.carrier_system.carrier_pod_delay_hours = 12
        with self._at(NOW - timedelta(hours=20)):
            self.sandbox.reject_zips.add("1000")
            self.backup_sandbox.reject_zips.add("1000")
            self.rejected = self._ready_delivery()
            self._book(self.rejected)
            order = self._create_order()
            order.warehouse_id = self.warehouse_b
            order.action_confirm()
            self.rejected_b = order.picking_ids
            self.rejected_b.carrier_id = self.express
            self._book(self.rejected_b)
            self.sandbox.reject_zips.clear()
            self.backup_sandbox.reject_zips.clear()
            self.refused = self._ready_delivery()
            refused_shipment = self._book(self.refused)
            self.sandbox.refuse_cancel = True
            with self._jobs() as jobs:
                refused_shipment.action_cancel_booking()
                jobs.run()
            self.sandbox.refuse_cancel = False
            self.delivered = self._ready_delivery()
            self.shipment = self._book(self.delivered)
        self._track(self.shipment, "DLV", NOW - timedelta(hours=19))
        with self._at(NOW):
            self.env["logistics.sync.shipment"]._cron_flag_late_pod()

    def _tiles(self, user, page):
        with self._at(NOW):
            data = self.env["logistics.sync.dashboard"].with_user(user).get_data(page)
        return {tile["key"]: tile for tile in data["tiles"]}, data

    def _records(self, action, user=None):
        return (
            self.env[action["res_model"]].with_user(user or self.manager).search(action["domain"])
        )

    def test_tiles_count_the_records_they_open(self):
        self.assertEqual(self.refused.logistics_sync_booking_state, "cancel_failed")
        tiles, data = self._tiles(self.manager, "manager")
        bookings = tiles["bookings"]
        self.assertEqual(bookings["value"], 3)
        self.assertEqual(
            self._records(bookings["action"]), self.rejected | self.rejected_b | self.refused
        )
        now_rows, day_rows = bookings["groups"]
        counts = {row["label"]: row["count"] for row in now_rows["rows"]}
        self.assertEqual(counts, {"Rejected": 2, "Cancellation refused": 1})
        for row in now_rows["rows"]:
            self.assertEqual(len(self._records(row["action"])), row["count"])
        # each transfer was tried with both carriers: four rejections in the last 24 h
        self.assertEqual(day_rows["rows"][0]["count"], 4)
        self.assertEqual(len(self._records(day_rows["rows"][0]["action"])), 4)
        pod = tiles["pod"]
        self.assertEqual(pod["value"], 1)
        self.assertEqual(self._records(pod["action"]), self.shipment)
        self.assertIn("1 delivered in the last 24 h", pod["caption"])
        self.assertEqual(tiles["slow"]["value"], 0)
        # the milestones graph: our own 'booked' milestones and the delivery, per hour
        graph = next(s for s in data["series"] if s["key"] == "milestones")
        hour = graph["labels"].index("2026-11-29 17:00:00")
        self.assertEqual(
            {line["label"]: line["data"][hour] for line in graph["lines"]}.get("Delivered"), 1
        )
        booked = next(line for line in graph["lines"] if line["label"] == "Booked")
        self.assertEqual(sum(booked["data"]), 2)

    def test_staff_tiles_count_their_warehouses_only(self):
        tiles, _data = self._tiles(self.clerk, "staff")
        self.assertEqual(tiles["bookings"]["value"], 2, "not the second warehouse's")
        self.assertEqual(
            self._records(tiles["bookings"]["action"], self.clerk), self.rejected | self.refused
        )
        self.assertEqual(tiles["pod"]["value"], 1)
        self.clerk.logistics_sync_warehouse_ids = self.warehouse_b
        tiles, _data = self._tiles(self.clerk, "staff")
        self.assertEqual((tiles["bookings"]["value"], tiles["pod"]["value"]), (1, 0))

    def test_metrics_carry_the_carrier_families(self):
        token = (
            self.env["logistics.sync.metrics.token"]
            .with_user(self.manager)
            .create({"name": "Prometheus"})
        )
        secret = (
            token.with_user(self.manager).action_generate()["params"]["message"].rsplit(" ", 1)[1]
        )
        self.env.flush_all()
        response = self.url_open(
            "/logistics_sync/metrics", headers={"Authorization": f"Bearer {secret}"}
        )
        self.assertEqual(response.status_code, 200)
        families = {f.name: f for f in text_string_to_metric_families(response.text)}

        def value(name, **labels):
            [sample] = [
                s.value
                for s in families[name].samples
                if all(s.labels.get(k) == v for k, v in labels.items())
            ]
            return sample

        carrier, backup = self.carrier_system.code, self.backup_system.code
        self.assertEqual(
            value("logistics_sync_carrier_shipments", system=carrier, state="failed"), 2
        )
        self.assertEqual(
            value("logistics_sync_carrier_shipments", system=backup, state="failed"), 2
        )
        self.assertEqual(
            value("logistics_sync_carrier_shipments", system=carrier, state="booked"), 1
        )
        self.assertEqual(
            value("logistics_sync_carrier_shipments", system=carrier, state="cancel_failed"), 1
        )
        self.assertEqual(
            value("logistics_sync_carrier_milestones", system=carrier, milestone="delivered"), 1
        )
        self.assertEqual(
            value("logistics_sync_carrier_milestones", system=carrier, milestone="booked"), 2
        )
        self.assertEqual(value("logistics_sync_carrier_pod_late", system=carrier), 1)
        self.assertEqual(
            value("logistics_sync_open_exceptions", kind="booking_failed", severity="high"), 2
        )

    def test_daily_summary_speaks_of_the_carriers(self):
        with self._at(NOW):
            text = self.env["logistics.sync.daily.summary"]._cron_post()
        self.assertIn(
            "Carriers: 2 bookings made and 4 rejected; 1 shipments delivered and 0 delivery "
            "attempts failed.",
            text,
        )
        self.assertIn("1 bookings the carrier refused to cancel", text)
        self.assertIn("1 deliveries wait for their proof of delivery", text)
