from datetime import datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from odoo.tests import HttpCase, tagged

from .common import MonitorCase

NOW = datetime(2026, 3, 2, 12, 0, 0)


@tagged("post_install", "-at_install")
class TestMetrics(MonitorCase, HttpCase):
    def _token(self):
        token = (
            self.env["logistics.sync.metrics.token"]
            .with_user(self.manager)
            .create({"name": "Prometheus"})
        )
        action = token.with_user(self.manager).action_generate()
        return action["params"]["message"].rsplit(" ", 1)[1]

    def _scrape(self, token):
        self.env.flush_all()
        return self.url_open(
            "/logistics_sync/metrics", headers={"Authorization": f"Bearer {token}"}
        )

    def _families(self, text):
        return {family.name: family for family in text_string_to_metric_families(text)}

    def _value(self, family, name=None, **labels):
        matches = [
            sample.value
            for sample in family.samples
            if (name is None or sample.name == name)
            and all(sample.labels.get(key) == value for key, value in labels.items())
        ]
        self.assertEqual(len(matches), 1, (family.name, name, labels, family.samples))
        return matches[0]

    def _assertUnauthorized(self, response):
        self.assertEqual(response.status_code, 401, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
        self.assertEqual(response.headers["WWW-Authenticate"], "Bearer")
        self.assertEqual(response.json()["error"], "unauthorized")

    def test_without_a_valid_token_401(self):
        token = self._token()
        self._assertUnauthorized(self.url_open("/logistics_sync/metrics"))
        self._assertUnauthorized(self._scrape("lsk_wrong"))
        # OPTIONS reaches the route too (Odoo adds it to every route's methods)
        self._assertUnauthorized(self.opener.options(self.base_url() + "/logistics_sync/metrics"))
        self.env["logistics.sync.metrics.token"].search([]).active = False
        self._assertUnauthorized(self._scrape(token))

    def test_the_figures_match_the_records(self):
        token = self._token()
        with self._at(NOW - timedelta(hours=3)):
            _order, delivered = self._routed_order()
            _order2, dead = self._routed_order()
            _order3, _pending = self._routed_order()
        with self._at(NOW - timedelta(hours=3, seconds=-4)):
            delivered._record_attempt(200, 0.05, "delivered")
            dead._refuse("too big")
        with self._at(NOW - timedelta(hours=1)):
            # an hour of the three rolled up, the rest read live
            self.env["logistics.sync.monitor.rollup"]._cron_rollup()
        EdgeLog = self.env["logistics.sync.edge.log"]
        EdgeLog.search([]).unlink()  # rows committed by the live-server tests of the webhook addon
        EdgeLog._log("inbound", "duplicate", self.market, 200)
        EdgeLog._log("inbound", "refused", self.market, 401, "unauthorized")
        EdgeLog._log("inbound", "refused", None, 401, "unauthorized")
        self.env["logistics.sync.inbound.message"].create(
            {
                "system_id": self.market.id,
                "message_id": "m-1",
                "type_code": "order.created",
                "body": "{}",
                "state": "done",
            }
        )
        with self._at(NOW):
            response = self._scrape(token)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain"))
        families = self._families(response.text)
        prefix = "logistics_sync_"
        self.assertEqual(self._value(families[prefix + "events"], type="order.confirmed"), 3)
        messages = families[prefix + "messages"]
        self.assertEqual(self._value(messages, system="t_wms", state="sent"), 1)
        self.assertEqual(self._value(messages, system="t_wms", state="dead"), 1)
        self.assertEqual(self._value(messages, system="t_wms", state="pending"), 1)
        attempts = families[prefix + "delivery_attempts"]
        self.assertEqual(self._value(attempts, system="t_wms", outcome="delivered"), 1)
        self.assertEqual(self._value(attempts, system="t_wms", outcome="refused"), 1)
        latency = families[prefix + "delivery_latency_seconds"]
        name = prefix + "delivery_latency_seconds_bucket"
        self.assertEqual(self._value(latency, name, system="t_wms", le="2.0"), 0)
        self.assertEqual(
            self._value(latency, name, system="t_wms", le="5.0"), 1, "4 s after the event"
        )
        self.assertEqual(self._value(latency, name, system="t_wms", le="+Inf"), 1)
        self.assertEqual(
            self._value(latency, prefix + "delivery_latency_seconds_sum", system="t_wms"), 4
        )
        inbound = families[prefix + "inbound_webhooks"]
        self.assertEqual(self._value(inbound, system="t_market", outcome="accepted"), 1)
        self.assertEqual(self._value(inbound, system="t_market", outcome="duplicate"), 1)
        self.assertEqual(self._value(inbound, system="t_market", outcome="refused"), 1)
        self.assertEqual(self._value(inbound, system="", outcome="refused"), 1)
        oldest = families[prefix + "oldest_pending_message_age_seconds"]
        self.assertEqual(self._value(oldest, system="t_wms"), 3 * 3600)
        exceptions = families[prefix + "open_exceptions"]
        self.assertEqual(self._value(exceptions, kind="dead_letter", severity="high"), 1)
        self.assertIn(prefix + "queue_depth", families)
        self.assertIn(prefix + "subscription_state", families)
        self.assertIn(prefix + "sla_breaches", families)

    def test_sla_breaches_are_counted(self):
        token = self._token()
        with self._at(NOW):
            self._routed_order()
        with self._at(NOW + timedelta(minutes=10)):
            self.env["logistics.sync.sla"]._cron_check()
            families = self._families(self._scrape(token).text)
        self.assertEqual(self._value(families["logistics_sync_sla_breaches"], sla="flow"), 1)
        self.assertEqual(
            self._value(families["logistics_sync_sla_breaches_open"], system="t_wms"), 1
        )
