from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import MonitorCase

NOW = datetime(2026, 3, 2, 12, 0, 0)


@tagged("post_install", "-at_install")
class TestDashboard(MonitorCase):
    def _tiles(self, user, page):
        with self._at(NOW):
            data = self.env["logistics.sync.dashboard"].with_user(user).get_data(page)
        return {tile["key"]: tile for tile in data["tiles"]}, data

    def test_manager_tiles_match_the_records(self):
        with self._at(NOW - timedelta(minutes=30)):
            _o1, fast = self._routed_order()
            _o2, slow = self._routed_order()
            _o3, dead = self._routed_order()
            _o4, failing = self._routed_order()
        with self._at(NOW - timedelta(minutes=30, seconds=-2)):
            fast._record_attempt(200, 0.01, "delivered")
        with self._at(NOW - timedelta(minutes=30, seconds=-10)):
            slow._record_attempt(200, 0.01, "delivered")
            dead._refuse("too big")
            failing._record_attempt(500, 0.01, "retry")
        # delivered_at is written in SQL at the attempt's time
        self.assertEqual(fast.delivered_at, NOW - timedelta(minutes=30, seconds=-2))
        with self._at(NOW - timedelta(hours=2)):
            _o5, late = self._routed_order()  # pending, past its 5-minute SLA
        self.flow.sudo().write({"delivery_state": "tripped"})
        self.env["logistics.sync.code.quarantine"]._record(self.carrier, "status", "ZZ")
        tiles, data = self._tiles(self.manager, "manager")
        [lag] = tiles["lag"]["table"]
        self.assertEqual((lag["count_day"], lag["count_hour"]), (2, 2))
        self.assertEqual(lag["p50_day"], 6.0, "median of 2 s and 10 s")
        self.assertEqual(lag["p95_day"], 9.6)
        self.assertEqual(tiles["success"]["value"], 50.0, "2 delivered of 4 attempts")
        self.assertEqual(tiles["unacknowledged"]["value"], 2, "1 failing + 1 pending past its SLA")
        self.assertEqual(tiles["dead"]["value"], 1)
        self.assertEqual(tiles["breakers"]["value"], 1)
        self.assertEqual(tiles["codes"]["value"], 1)
        self.assertEqual(tiles["parked"]["value"], 0)
        self.assertEqual(tiles["exceptions"]["value"], 2, "the dead letter and the unknown code")
        self.assertEqual(tiles["reconciliation"]["value"], 0)
        self.assertFalse([tile for tile in data["tiles"] if tile.get("slot")], "no slot left")
        # click-through: the tile's records are exactly the ones counted
        action = tiles["unacknowledged"]["action"]
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]), failing | late)
        action = tiles["dead"]["action"]
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]), dead)
        # hourly series over 7 days: the attempts of 11:00
        attempts = next(s for s in data["series"] if s["key"] == "attempts")
        self.assertEqual(len(attempts["labels"]), 7 * 24 + 1)
        hour = attempts["labels"].index("2026-03-02 11:00:00")
        by_line = {line["label"]: line["data"][hour] for line in attempts["lines"]}
        self.assertEqual(by_line, {"Delivered": 2, "Not delivered": 2})

    def test_staff_page_counts_their_warehouses_only_and_manager_page_is_refused(self):
        Exception = self.Exception
        with self._at(NOW - timedelta(hours=30)):
            Exception._open("dead_letter", "a", {"name": "a", "warehouse_id": self.warehouse.id})
        with self._at(NOW - timedelta(minutes=10)):
            Exception._open("unknown_code", "b", {"name": "b"})
            Exception._open("dead_letter", "c", {"name": "c", "warehouse_id": self.warehouse_b.id})
            Exception._open(
                "dead_letter",
                "d",
                {"name": "d", "warehouse_id": self.warehouse.id, "user_id": self.clerk.id},
            )
        with self.assertRaises(AccessError):
            self._tiles(self.clerk, "manager")
        tiles, data = self._tiles(self.clerk, "staff")
        self.assertEqual(tiles["exceptions"]["value"], 3)
        by_age = {row["label"]: row["count"] for row in tiles["exceptions"]["groups"][0]["rows"]}
        self.assertEqual(by_age, {"under 1 h": 2, "1-24 h": 0, "1-7 days": 1, "over 7 days": 0})
        self.assertEqual(tiles["mine"]["value"], 1)
        self.assertEqual(tiles["unassigned"]["value"], 2)
        opened = data["series"][0]["lines"][0]["data"]
        self.assertEqual(sum(opened), 3)
        manager_tiles, _data = self._tiles(self.manager, "manager")
        self.assertEqual(manager_tiles["exceptions"]["value"], 4)

    def test_rollup_is_idempotent_and_series_equal_direct_counts(self):
        Rollup = self.env["logistics.sync.monitor.rollup"]
        for hours_ago in (5, 5, 3, 1):
            with self._at(NOW - timedelta(hours=hours_ago)):
                self._routed_order()
        direct = {}
        for event in self.env["logistics.sync.event"].search([]):
            hour = event.create_date.replace(minute=0, second=0, microsecond=0)
            direct[hour] = direct.get(hour, 0) + 1
        self.assertEqual(len(direct), 3)
        with self._at(NOW):
            Rollup._cron_rollup()
            Rollup._cron_rollup()
            rolled = Rollup.search([("metric", "=", "event")])
            # 11:00 has not ended 5 minutes ago: read live, not rolled up
            closed = sum(count for hour, count in direct.items() if hour < NOW - timedelta(hours=1))
            self.assertEqual(sum(rolled.mapped("count")), closed, "the hours that ended, once")
            self.assertEqual(
                set(rolled.mapped("hour")), {NOW - timedelta(hours=5), NOW - timedelta(hours=3)}
            )
            series = Rollup._series("event", NOW - timedelta(days=1))
        by_hour = {}
        for (hour, _system, _label), (count, _total) in series.items():
            by_hour[hour] = by_hour.get(hour, 0) + count
        self.assertEqual(by_hour, direct)

    def test_daily_summary_in_plain_words_posted_to_the_channel(self):
        with self._at(NOW - timedelta(hours=2)):
            _order, dead = self._routed_order()
            self._routed_order()
            dead._refuse("boom")
        events = self.env["logistics.sync.event"].search_count([])
        with self._at(NOW):
            text = self.env["logistics.sync.daily.summary"]._cron_post()
        self.assertIn(f"{events} business events were recorded, 0 messages delivered", text)
        self.assertIn("1 messages were dead-lettered; 1 exceptions were opened", text)
        self.assertIn("1 messages wait past their SLA", text)
        channel = self.env.ref("logistics_sync_monitor.channel_operations")
        self.assertIn("dead-lettered", channel.message_ids[0].body)
