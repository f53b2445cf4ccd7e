import json
from datetime import datetime

from odoo.tests import tagged

from .common import MonitorCase

START = datetime(2026, 3, 2, 9, 0, 0)


@tagged("post_install", "-at_install")
class TestSla(MonitorCase):
    def _breach_events(self):
        return self.env["logistics.sync.event"].search([("type_code", "=", "sla.breached")])

    def test_a_late_flow_opens_one_exception_notifies_and_emits_once_until_met_again(self):
        self.manager.email = "manager@example.com"
        Sla = self.env["logistics.sync.sla"]
        record_only = self.flow.copy({"name": "Kept for inspection", "transport": "record"})
        with self._at(START):
            _order, message = self._routed_order()
        kept = self.env["logistics.sync.message"].search([("flow_id", "=", record_only.id)])
        self.assertEqual(kept.state, "pending", "never sent: record only")
        self.assertEqual(message.deadline, datetime(2026, 3, 2, 9, 5))
        with self._at("2026-03-02 09:04:00"):
            self.assertEqual(Sla._cron_check()["flow"], 0)
        self.assertFalse(self._exceptions("sla_breach"))
        with self._at("2026-03-02 09:10:00"):
            self.assertEqual(Sla._cron_check()["flow"], 1)
        exception = self._exceptions("sla_breach")
        self.assertEqual((exception.state, exception.system_id), ("new", self.wms))
        self.assertIn("1 message(s) past their deadline", exception.detail)
        self.assertIn("5 minute(s) ago", exception.detail)
        # the responsible (no rule: the managers) get an activity and an e-mail
        self.assertIn(self.manager, exception.activity_ids.user_id)
        alerts = exception.activity_ids
        [mail] = self.env["mail.mail"].search(
            [
                ("model", "=", exception._name),
                ("res_id", "=", exception.id),
                ("subject", "=like", "[Logistics Sync]%"),
            ]
        )
        self.assertIn(self.manager.partner_id, mail.recipient_ids)
        self.assertIn("past their deadline", mail.body_html)
        [event] = self._breach_events()
        self.assertEqual(event.aggregate_model, exception._name)
        self.assertEqual(event.payload["sla"], "flow")
        self.assertEqual(event.payload["late_messages"], 1)
        self.assertEqual(event.payload["exception_id"], exception.id)
        # valid against the catalog's schema (emission validates; checked again here)
        event.event_type_id._validate(json.loads(json.dumps(event.payload)))
        # still late five minutes later: the same exception, no second announcement
        with self._at("2026-03-02 09:15:00"):
            _second_order, _second = self._routed_order()
        with self._at("2026-03-02 09:25:00"):
            Sla._cron_check()
        self.assertEqual(self._exceptions("sla_breach"), exception)
        self.assertEqual(len(self._breach_events()), 1)
        self.assertIn("2 message(s)", exception.detail)
        self.assertEqual(exception.activity_ids, alerts, "no second alert")
        # delivered: the SLA is met again, the breach is resolved
        self.env["logistics.sync.message"].search([("flow_id", "=", self.flow.id)]).write(
            {"state": "sent"}
        )
        with self._at("2026-03-02 09:30:00"):
            Sla._cron_check()
        self.assertEqual((exception.state, exception.resolution), ("resolved", "auto"))
        self.assertFalse(exception.activity_ids, "the alert activities are closed")
        # late again later: reopened and announced again
        with self._at("2026-03-02 10:00:00"):
            self._routed_order()
        with self._at("2026-03-02 10:30:00"):
            Sla._cron_check()
        self.assertEqual((exception.state, exception.occurrences), ("new", 2))
        self.assertEqual(len(self._breach_events()), 2)

    def test_an_assigned_breach_notifies_its_assignee_and_an_endpoint_can_subscribe(self):
        self.clerk.email = "clerk@example.com"
        self.env["logistics.sync.exception.rule"].create(
            {"kind": "sla_breach", "user_id": self.clerk.id}
        )
        alerting = self.env["logistics.sync.flow"].create(
            {
                "name": "Alerts to the on-call tool",
                "system_id": self.market.id,
                "event_type_ids": [
                    (6, 0, self.env["logistics.sync.event.type"]._get("sla.breached").ids)
                ],
            }
        )
        with self._at(START):
            self._routed_order()
        with self._at("2026-03-02 09:10:00"):
            self.env["logistics.sync.sla"]._cron_check()
        exception = self._exceptions("sla_breach")
        self.assertEqual(exception.activity_ids.user_id, self.clerk)
        self._breach_events()._route()
        routed = self.env["logistics.sync.message"].search([("flow_id", "=", alerting.id)])
        self.assertEqual(routed.type_code, "sla.breached")
