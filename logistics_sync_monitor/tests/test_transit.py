from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from .common import CarrierMonitorCase

NOW = datetime(2026, 11, 30, 12, 0, 0)
#: Transit hours of the lane's history. By hand: sorted, the median is (24 + 25) / 2 = 24.5;
#: the absolute deviations sorted are 0.5 0.5 0.5 1.5 1.5 2.5 3.5 4.5 5.5 23.5, so the MAD is
#: (1.5 + 2.5) / 2 = 2.0 and the threshold with k = 3 is 24.5 + 3 × 2.0 = 30.5 h. The 10th
#: percentile (interpolated at position 0.9) is 20 + 0.9 × 2 = 21.8 h, the 90th (position
#: 8.1) 30 + 0.1 × 18 = 31.8 h.
HISTORY = [20, 22, 23, 24, 24, 25, 26, 28, 30, 48]


@tagged("post_install", "-at_install")
class TestTransit(CarrierMonitorCase):
    """Slow-shipment flags and ETAs from a lane's history, against figures computed by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Transit = cls.env["logistics.sync.transit"]
        cls.far = cls.partner.copy({"name": "Far customer", "zip": "9000", "city": "Ghent"})
        for index, hours in enumerate(HISTORY):
            delivered = NOW - timedelta(days=index + 1)
            cls._shipment(delivered - timedelta(hours=hours), delivered)
        # a shipment delivered before the 90-day window does not count
        cls._shipment(NOW - timedelta(days=100, hours=500), NOW - timedelta(days=100))
        # another lane with three deliveries only
        for days in (1, 2, 3):
            delivered = NOW - timedelta(days=days)
            cls._shipment(delivered - timedelta(hours=10), delivered, partner=cls.far)

    @classmethod
    def _shipment(cls, dispatched, delivered=None, partner=None):
        """A shipment of the express carrier that was handed over at ``dispatched`` (and
        delivered at ``delivered``): fixture history, as the tracking leaves it."""
        picking = cls.env["stock.picking"].create(
            {
                "picking_type_id": cls.warehouse.out_type_id.id,
                "partner_id": (partner or cls.partner).id,
                "carrier_id": cls.express.id,
            }
        )
        shipment = cls.env["logistics.sync.shipment"].create(
            {"name": picking.name, "picking_id": picking.id, "carrier_id": cls.express.id}
        )
        shipment.write(
            {
                "state": "booked",
                "booked_at": dispatched - timedelta(hours=1),
                "dispatched_at": dispatched,
                "delivered_at": delivered,
                "status": "delivered" if delivered else "in_transit",
                "status_at": delivered or dispatched,
            }
        )
        return shipment

    def test_lane_statistics_match_the_hand_computed_median_and_mad(self):
        stats = self.Transit._lane_stats(NOW, self.carrier_system)
        lane = stats[(self.carrier_system.id, "WH → BE-10")]
        self.assertEqual(lane["n"], 10)
        self.assertAlmostEqual(lane["median"], 24.5)
        self.assertAlmostEqual(lane["mad"], 2.0)
        self.assertAlmostEqual(lane["threshold"], 30.5)
        self.assertAlmostEqual(lane["p10"], 21.8)
        self.assertAlmostEqual(lane["p90"], 31.8)
        self.assertTrue(lane["enough"])
        small = stats[(self.carrier_system.id, "WH → BE-90")]
        self.assertEqual((small["n"], small["enough"]), (3, False))

    def test_slower_than_the_threshold_is_flagged_with_its_basis_and_resolved_on_delivery(self):
        slow = self._shipment(NOW - timedelta(hours=31))
        usual = self._shipment(NOW - timedelta(hours=30))
        # very slow, but on a lane without enough history: no flag
        self._shipment(NOW - timedelta(hours=200), partner=self.far)
        with self._at(NOW):
            self.assertEqual(self.Transit._cron_flag_slow(), 1)
        [exception] = self._exceptions("transit_anomaly")
        self.assertEqual((exception.source_model, exception.source_id), (slow._name, slow.id))
        self.assertEqual(exception.res_id, slow.picking_id.id)
        self.assertIn("31.0 h in transit", exception.name)
        for figure in (
            "Lane WH → BE-10",
            "10 delivered shipment(s) in the last 90 days",
            "median 24.5 h",
            "MAD 2.0 h",
            "median + 3.0 × MAD = 30.5 h",
        ):
            self.assertIn(figure, exception.detail)
        # an hour later the usual one is slow too; the first is updated, not doubled
        with self._at(NOW + timedelta(hours=1)):
            self.assertEqual(self.Transit._cron_flag_slow(), 2)
        self.assertEqual(len(self._exceptions("transit_anomaly")), 2)
        self.assertEqual(exception.occurrences, 1)
        self.assertIn("32.0 h in transit", exception.name)
        # delivered: resolved at once
        self._track(slow, "DLV", NOW + timedelta(hours=2))
        self.assertEqual((exception.state, exception.resolution), ("resolved", "auto"))
        self.assertTrue(usual.exists())

    def test_k_and_the_minimum_history_are_the_carriers(self):
        self._shipment(NOW - timedelta(hours=31))
        self.carrier_system.monitor_anomaly_k = 4  # threshold 24.5 + 8 = 32.5 h
        with self._at(NOW):
            self.assertEqual(self.Transit._cron_flag_slow(), 0)
        self.carrier_system.write({"monitor_anomaly_k": 3, "monitor_anomaly_min_sample": 11})
        with self._at(NOW):
            self.assertEqual(self.Transit._cron_flag_slow(), 0)

    def test_eta_from_the_lane_history_or_an_honest_no_prediction(self):
        moving = self._shipment(NOW - timedelta(hours=5))
        with self._at(NOW):
            self.assertEqual(moving.eta_at, NOW - timedelta(hours=5) + timedelta(hours=24.5))
            self.assertEqual(moving.eta_latest_at, NOW - timedelta(hours=5) + timedelta(hours=31.8))
            self.assertIn("10 delivered shipment(s)", moving.eta_basis)
            self.assertEqual(moving.picking_id.logistics_sync_eta_at, moving.eta_at)
        far = self._shipment(NOW - timedelta(hours=5), partner=self.far)
        with self._at(NOW):
            self.assertFalse(far.eta_at)
            self.assertEqual(
                far.eta_basis,
                "No prediction: 3 delivered shipment(s) on lane WH → BE-90 with Test Carrier "
                "in the last 90 days, 10 needed.",
            )

    def test_a_stock_user_reads_the_eta_and_scan_figures_of_a_shipment(self):
        """The figures read the carrier system's settings, which a warehouse user without a
        Logistics Sync group may not read: the shipment's form still opens for them."""
        clerk = new_test_user(
            self.env, login="ls_stock_clerk", groups="base.group_user,stock.group_stock_user"
        )
        moving = self._shipment(NOW - timedelta(hours=5))
        far = self._shipment(NOW - timedelta(hours=5), partner=self.far)
        with self._at(NOW):
            as_clerk = (moving | far).with_user(clerk)
            with self.assertRaises(AccessError):
                self.carrier_system.with_user(clerk).read(["name"])
            self.assertIn("10 delivered shipment(s)", as_clerk[0].eta_basis)
            self.assertIn("No prediction: 3 delivered shipment(s)", as_clerk[1].eta_basis)
            self.assertIn("the carrier's setting applies", as_clerk[1].scan_basis)
            Form(moving.with_user(clerk))
