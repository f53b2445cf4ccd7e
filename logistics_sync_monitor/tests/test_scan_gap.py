from datetime import datetime, timedelta

from odoo.tests import tagged

from odoo.addons.logistics_sync_carrier.tests.common import STATUS_CODES

from .common import CarrierMonitorCase

NOW = datetime(2026, 11, 30, 12, 0, 0)
LANE = "WH → BE-10"
#: The lane's history: per delivered shipment, (hours after the previous report, carrier
#: codes reported at that moment); the booking is the first report. The second shipment
#: has its pick-up and in-transit scans at the same moment: one report, not a 0 h gap.
#: By hand, the 12 gaps sorted are 2 2 4 6 8 10 10 12 12 12 14 30: the median is
#: (10 + 10) / 2 = 10 h; the absolute deviations sorted are 0 0 2 2 2 2 4 4 6 8 8 20, so the
#: MAD is (2 + 4) / 2 = 3 h and the threshold with k = 3 is 10 + 3 × 3 = 19 h. Without the
#: booking -> first scan gaps the median would be 12 h; with the 0 h gap, 10 h over 13
#: gaps and a MAD of 2 h.
HISTORY = [
    [(2, ["PU"]), (10, ["ITR"]), (12, ["DLV"])],
    [(4, ["PU", "ITR"]), (8, ["OFD"]), (12, ["DLV"])],
    [(2, ["PU"]), (12, ["ITR"]), (14, ["DLV"])],
    [(6, ["PU"]), (10, ["ITR"]), (30, ["DLV"])],
]


@tagged("post_install", "-at_install")
class TestScanGap(CarrierMonitorCase):
    """'No tracking scan for longer than usual': the usual gap between scans learned per
    carrier and lane from history, against figures computed by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Transit = cls.env["logistics.sync.transit"]
        cls.carrier_system.write({"monitor_anomaly_min_sample": 4, "monitor_sla_scan_hours": 24})
        cls.far = cls.partner.copy({"name": "Far customer", "zip": "9000", "city": "Ghent"})
        for index, journey in enumerate(HISTORY):
            cls._journey(NOW - timedelta(days=index + 1), journey)
        # delivered before the 90-day window: its 100 h gaps do not count
        cls._journey(NOW - timedelta(days=100), [(100, ["PU"]), (100, ["DLV"])])
        # another lane, one delivered shipment only
        cls._journey(NOW - timedelta(days=1), [(1, ["PU"]), (1, ["DLV"])], partner=cls.far)

    @classmethod
    def _booked(cls, booked_at, partner=None):
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
        shipment.write({"state": "booked", "booked_at": booked_at})
        return shipment

    @classmethod
    def _journey(cls, delivered, journey, partner=None):
        """A shipment booked, scanned as ``journey`` says and delivered at ``delivered``,
        its scans recorded as the carrier's tracking hands them over."""
        moment = delivered - timedelta(hours=sum(hours for hours, _codes in journey))
        shipment = cls._booked(moment, partner)
        for hours, codes in journey:
            moment += timedelta(hours=hours)
            for code in codes:
                cls._scan(shipment, code, moment)
        return shipment

    @classmethod
    def _scan(cls, shipment, code, when):
        shipment._record_milestones(
            [{"code": code, "milestone": STATUS_CODES[code], "occurred_at": when}], "poll"
        )

    def _silence(self, shipment, moment):
        """The shipment's scan-gap fields as its form shows them at ``moment``."""
        with self._at(moment):
            shipment.invalidate_recordset()
            return {
                "hours": round(shipment.scan_silence_hours, 2),
                "threshold": round(shipment.scan_threshold_hours, 2),
                "overdue": shipment.scan_overdue,
                "basis": shipment.scan_basis,
            }

    def _flag(self, moment):
        with self._at(moment):
            return self.Transit._cron_flag_silent()

    def test_lane_gaps_match_the_hand_computed_median_and_mad(self):
        stats = self.Transit._scan_gap_stats(NOW, self.carrier_system)
        lane = stats[(self.carrier_system.id, LANE)]
        self.assertEqual((lane["n"], lane["shipments"]), (12, 4))
        self.assertAlmostEqual(lane["median"], 10.0)
        self.assertAlmostEqual(lane["mad"], 3.0)
        self.assertAlmostEqual(lane["threshold"], 19.0)
        self.assertTrue(lane["enough"])
        far = stats[(self.carrier_system.id, "WH → BE-90")]
        self.assertEqual((far["n"], far["shipments"], far["enough"]), (2, 1, False))
        # the transit statistics use the same threshold definition and the same k
        transit = self.Transit._lane_stats(NOW, self.carrier_system)[(self.carrier_system.id, LANE)]
        self.assertAlmostEqual(transit["threshold"], transit["median"] + 3 * transit["mad"])

    def test_silent_longer_than_the_lane_usual_gap_is_flagged_with_its_figures(self):
        silent = self._booked(NOW - timedelta(hours=30))
        self._scan(silent, "PU", NOW - timedelta(hours=18.5))
        fresh = self._booked(NOW - timedelta(hours=10))  # no scan yet: 10 h since the booking
        self.assertEqual(self._flag(NOW), 0)
        figures = self._silence(silent, NOW)
        self.assertEqual(
            (figures["hours"], figures["threshold"], figures["overdue"]), (18.5, 19.0, False)
        )
        # an hour later the silence (19.5 h) is longer than the usual gap at most (19 h)
        self.assertEqual(self._flag(NOW + timedelta(hours=1)), 1)
        [exception] = self._exceptions("scan_gap")
        self.assertEqual((exception.source_model, exception.source_id), (silent._name, silent.id))
        self.assertEqual(exception.res_id, silent.picking_id.id)
        self.assertEqual(exception.warehouse_id, self.warehouse)
        self.assertIn("for 19.5 h (usual at most 19.0 h)", exception.name)
        figures = self._silence(silent, NOW + timedelta(hours=1))
        self.assertEqual(
            (figures["hours"], figures["threshold"], figures["overdue"]), (19.5, 19.0, True)
        )
        for text in (exception.detail, figures["basis"]):
            for figure in (
                f"Lane {LANE} with Test Carrier",
                "12 gap(s) between tracking reports of 4 delivered shipment(s) in the last "
                "90 days",
                "median gap 10.0 h, MAD 3.0 h",
                "threshold median + 3.0 × MAD = 19.0 h",
                "19.5 h ago",
            ):
                self.assertIn(figure, text)
        self.assertFalse(self._silence(fresh, NOW + timedelta(hours=1))["overdue"])
        # the dashboard tile and the daily summary count it
        with self._at(NOW + timedelta(hours=1)):
            data = self.env["logistics.sync.dashboard"].with_user(self.manager).get_data("manager")
            summary = self.env["logistics.sync.daily.summary"]._cron_post()
        tile = next(t for t in data["tiles"] if t["key"] == "slow")
        self.assertEqual(tile["value"], 1)
        self.assertIn("1 without a tracking scan for longer than usual", tile["caption"])
        self.assertEqual(self.Exception.search(tile["action"]["domain"]), exception)
        self.assertIn("1 shipments have had no tracking scan for longer than usual", summary)
        # still silent an hour later: the same exception, its figures updated
        self.assertEqual(self._flag(NOW + timedelta(hours=2)), 1)
        self.assertEqual(self._exceptions("scan_gap"), exception)
        self.assertEqual(exception.occurrences, 1)
        self.assertIn("for 20.5 h", exception.name)
        # the next scan resolves it at once
        self._scan(silent, "ITR", NOW + timedelta(hours=2, minutes=30))
        self.assertEqual((exception.state, exception.resolution), ("resolved", "auto"))
        self.assertEqual(self._flag(NOW + timedelta(hours=3)), 0)
        self.assertFalse(self._silence(silent, NOW + timedelta(hours=3))["overdue"])

    def test_a_thin_lane_falls_back_to_the_carriers_hours_and_says_so(self):
        far = self._booked(NOW - timedelta(hours=23), partner=self.far)
        self.assertEqual(self._flag(NOW), 0)
        self.assertEqual(self._flag(NOW + timedelta(hours=2)), 1)
        [exception] = self._exceptions("scan_gap")
        self.assertEqual(exception.source_id, far.id)
        self.assertIn("for 25.0 h (usual at most 24.0 h)", exception.name)
        figures = self._silence(far, NOW + timedelta(hours=2))
        self.assertEqual((figures["threshold"], figures["overdue"]), (24.0, True))
        for text in (exception.detail, figures["basis"]):
            self.assertIn(
                "Lane WH → BE-90 with Test Carrier: 1 delivered shipment(s) with tracking in "
                "the last 90 days, 4 needed to learn its usual gaps; the carrier's setting "
                "applies: a scan at least every 24 h.",
                text,
            )
            self.assertIn("25.0 h ago", text)
        # no carrier setting either: no threshold, said so
        self.carrier_system.monitor_sla_scan_hours = 0
        self.assertEqual(self._flag(NOW + timedelta(hours=80)), 0)
        self.assertEqual(exception.state, "resolved")
        figures = self._silence(far, NOW + timedelta(hours=80))
        self.assertFalse(figures["overdue"])
        self.assertIn("the carrier sets no 'scan at least every': no threshold.", figures["basis"])

    def test_k_and_the_minimum_history_are_the_carriers(self):
        silent = self._booked(NOW - timedelta(hours=19.5))  # no scan since the booking
        self.assertEqual(self._flag(NOW), 1)
        self.carrier_system.monitor_anomaly_k = 4  # threshold 10 + 4 × 3 = 22 h
        self.assertEqual(self._flag(NOW), 0)
        self.assertEqual(self._silence(silent, NOW)["threshold"], 22.0)
        # a fifth delivered shipment needed: the lane's history is too thin, 24 h apply
        self.carrier_system.write({"monitor_anomaly_k": 3, "monitor_anomaly_min_sample": 5})
        self.assertEqual(self._flag(NOW), 0)
        figures = self._silence(silent, NOW)
        self.assertEqual(figures["threshold"], 24.0)
        self.assertIn("4 delivered shipment(s) with tracking", figures["basis"])
        self.assertIn("5 needed", figures["basis"])
        self.assertEqual(self._flag(NOW + timedelta(hours=5)), 1)
