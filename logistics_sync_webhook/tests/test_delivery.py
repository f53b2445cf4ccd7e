import json
from datetime import timedelta

from freezegun import freeze_time
from standardwebhooks.webhooks import Webhook

from odoo import fields
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import WebhookCase


@tagged("post_install", "-at_install")
class TestDelivery(WebhookCase):
    def test_delivered_signed_message_verifies_with_standardwebhooks(self):
        order = self._confirmed_order()
        message = self._messages(order)
        self.assertEqual(self.flow.deliver_pending(), "1/1 delivered", message.last_error)
        self.assertEqual(message.state, "sent")
        [request] = self.receiver.received("/hook")
        headers = {k.lower(): v for k, v in request["headers"].items()}
        self.assertEqual(headers["webhook-id"], message.uid)
        payload = Webhook(self.secret).verify(request["body"], headers)
        self.assertEqual(payload["type"], "order.confirmed")
        self.assertEqual(payload["aggregate"]["sequence"], 1)
        self.assertEqual(payload["data"]["name"], order.name)
        self.assertEqual(request["body"], message._body(), "the exact bytes stored are sent")
        attempt = message.attempt_ids
        self.assertEqual((attempt.status_code, attempt.outcome), (200, "delivered"))
        self.assertIn('"ok"', attempt.response_excerpt)
        self.env.cr.execute(
            "SELECT company_id FROM logistics_sync_message_attempt WHERE id = %s", attempt.ids
        )
        self.assertEqual(self.env.cr.fetchone()[0], message.company_id.id, "stored with the row")

    def test_a_runs_attempts_are_recorded_in_order_and_read_back_fresh(self):
        """A delivery run writes its attempts with one statement behind the ORM's back:
        each in the order sent, with its outcome, and visible on a message whose attempts
        were read before the run."""
        self.receiver.script["/hook"] = [500, 200]
        first, second = (
            self._messages(self._confirmed_order()),
            self._messages(self._confirmed_order()),
        )
        self.assertFalse(first.attempt_ids | second.attempt_ids)  # now in the cache
        with trap_jobs():
            self.assertEqual(self.flow.deliver_pending(), "1/2 delivered")
        failed, delivered = first.attempt_ids, second.attempt_ids
        self.assertEqual((failed.status_code, failed.outcome), (500, "retry"))
        self.assertEqual((delivered.status_code, delivered.outcome), (200, "delivered"))
        self.assertLess(failed.id, delivered.id, "in the order sent")
        self.assertEqual(failed.company_id, first.company_id)
        self.env.cr.execute(
            """
            SELECT count(*) FROM logistics_sync_message_attempt
             WHERE id IN %s AND attempted_at IS NOT NULL AND duration_ms IS NOT NULL
               AND create_uid = %s AND write_uid = %s AND create_date IS NOT NULL
               AND write_date IS NOT NULL AND error IS NULL
               AND response_excerpt IS NOT NULL AND company_id IS NOT NULL
            """,
            (tuple((failed | delivered).ids), self.env.uid, self.env.uid),
        )
        self.assertEqual(self.env.cr.fetchone()[0], 2, "no column left empty or filled wrong")

    def test_messages_to_send_are_found_through_a_partial_index(self):
        """The ready-messages lookup reads the pending and failed messages of one
        subscription, not every message ever delivered (bench/scale.py measures it)."""
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
            ("logistics_sync_message_ready_index",),
        )
        definition = self.env.cr.fetchone()[0]
        self.assertIn("(flow_id, id)", definition)
        self.assertIn("WHERE ((state)::text = ANY", definition)
        self.assertIn("pending", definition)
        self.assertIn("failed", definition)

    def test_server_error_is_retried_with_the_same_id(self):
        self.receiver.script["/hook"] = [500, 200]
        order = self._confirmed_order()
        message = self._messages(order)
        with trap_jobs() as trap:
            self.flow.deliver_pending()
        self.assertEqual(message.state, "failed")
        wait = (message.next_attempt_at - fields.Datetime.now()).total_seconds()
        self.assertTrue(3 <= wait <= 7, f"second attempt after ~5 s, got {wait}")
        # the short retry gets its own job at that time
        trap.assert_enqueued_job(
            self.flow.deliver_pending, properties={"eta": message.next_attempt_at}
        )
        self.assertEqual(self.flow.deliver_pending(), "nothing to send", "not before its time")
        with freeze_time(message.next_attempt_at + timedelta(seconds=1)):
            self.flow.deliver_pending()
        self.assertEqual(message.state, "sent")
        ids = [r["headers"]["webhook-id"] for r in self.receiver.received("/hook")]
        self.assertEqual(ids, [message.uid, message.uid])
        self.assertEqual(message.attempt_ids.sorted("id").mapped("status_code"), [500, 200])

    def test_redirect_is_a_failure_and_not_followed(self):
        self.receiver.script["/hook"] = [(302, {"Location": self.receiver.url("/moved")})]
        order = self._confirmed_order()
        self.flow.deliver_pending()
        self.assertEqual(self._messages(order).state, "failed")
        self.assertEqual(self._messages(order).last_status_code, 302)
        self.assertFalse(self.receiver.received("/moved"))

    def test_gone_disables_the_subscription_and_tells_managers(self):
        self.receiver.script["/hook"] = [410]
        order = self._confirmed_order()
        self.flow.deliver_pending()
        self.assertEqual(self.flow.delivery_state, "disabled")
        self.assertEqual(self._messages(order).state, "failed")
        self.assertIn(self.manager, self.flow.activity_ids.user_id)
        self.assertEqual(self.flow.deliver_pending(), "not sent: subscription disabled")

    def test_too_many_requests_honours_retry_after(self):
        self.receiver.script["/hook"] = [(429, {"Retry-After": "120"})]
        order = self._confirmed_order()
        self.flow.deliver_pending()
        message = self._messages(order)
        wait = (message.next_attempt_at - fields.Datetime.now()).total_seconds()
        self.assertGreaterEqual(wait, 119)

    def test_hang_and_dropped_connection_are_retried_within_the_timeout(self):
        self.flow.timeout = 1
        for behaviour in ("hang", "drop"):
            self.receiver.script["/hook"] = [behaviour]
            order = self._confirmed_order()
            self.flow.deliver_pending()
            message = self._messages(order)
            self.assertEqual(message.state, "failed", behaviour)
            self.assertEqual(message.attempt_ids.status_code, 0)
            self.assertTrue(message.last_error)
            self.assertLess(message.attempt_ids.duration_ms, 2500, behaviour)
            self.flow.consecutive_failures = 0

    def test_dead_letter_after_the_last_attempt_with_an_activity(self):
        self.flow.retry_schedule = "0, 0, 0"
        self.receiver.script["/hook"] = [503]
        order = self._confirmed_order()
        message = self._messages(order)
        for _attempt in range(3):
            self.flow.deliver_pending()
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.attempt_count, 3)
        self.assertEqual(message.attempt_ids.sorted("id")[-1].outcome, "dead")
        activity = self.flow.activity_ids.filtered(lambda a: a.summary == "Messages dead-lettered")
        self.assertIn(self.manager, activity.user_id)
        self.assertEqual(self.flow.dead_count, 1)

    def test_messages_of_one_aggregate_go_in_order_under_retries(self):
        self.receiver.script["/hook"] = [500, 200]
        order = self._create_order()
        order.action_confirm()
        order._action_cancel()
        (self._events(order) | self._events(order.picking_ids))._route()
        confirmed, cancelled = self._messages(order)
        self.flow.deliver_pending()
        self.assertEqual((confirmed.state, cancelled.state), ("failed", "pending"))
        self.assertEqual(len(self.receiver.received()), 1, "cancel waits for the confirmation")
        with freeze_time(confirmed.next_attempt_at + timedelta(seconds=1)):
            self.flow.deliver_pending()
            self.flow.deliver_pending()
        self.assertEqual((confirmed.state, cancelled.state), ("sent", "sent"))
        types = [json.loads(r["body"])["type"] for r in self.receiver.received()]
        self.assertEqual(types, ["order.confirmed", "order.confirmed", "order.cancelled"])

    def test_a_message_waits_while_an_earlier_event_of_its_aggregate_is_unrouted(self):
        order = self._create_order()
        order.action_confirm()
        order._action_cancel()
        confirmed, cancelled = self._events(order)  # in sequence order
        cancelled._route()
        self.assertEqual(self.flow.deliver_pending(), "nothing to send")
        self.assertFalse(self.receiver.received(), "the cancel waits for the confirmation")
        confirmed._route()
        self.flow.deliver_pending()  # one message per aggregate and run
        self.flow.deliver_pending()
        types = [json.loads(r["body"])["type"] for r in self.receiver.received()]
        self.assertEqual(types, ["order.confirmed", "order.cancelled"])

    def test_circuit_breaker_trips_then_probes_and_closes(self):
        self.flow.write({"breaker_threshold": 2, "breaker_cooldown": 60})
        self.receiver.script["/hook"] = [500, 500, 200]
        orders = [self._confirmed_order() for _index in range(3)]
        self.flow.deliver_pending()
        self.assertEqual(self.flow.delivery_state, "tripped")
        self.assertEqual(len(self.receiver.received()), 2, "stops sending once tripped")
        self.assertEqual(self.flow.deliver_pending(), "not sent: breaker open")
        with freeze_time(self.flow.tripped_until + timedelta(seconds=1)):
            result = self.flow.deliver_pending()
        self.assertEqual(result, "1/1 delivered", "one probe after the cool-down")
        self.assertEqual(self.flow.delivery_state, "enabled")
        self.assertEqual(self.flow.consecutive_failures, 0)
        self.assertEqual(self._messages(orders[2]).state, "pending")

    def test_payload_over_the_cap_fails_clearly_without_sending(self):
        self.flow.max_payload_bytes = 100
        order = self._confirmed_order()
        self.flow.deliver_pending()
        message = self._messages(order)
        self.assertEqual(message.state, "dead")
        self.assertIn("exceeds this subscription's cap of 100 bytes", message.last_error)
        self.assertFalse(self.receiver.received())

    def test_ssrf_guard_refuses_loopback_unless_allowed(self):
        self.env["ir.config_parameter"].set_param("logistics_sync_webhook.allowed_networks", "")
        order = self._confirmed_order()
        self.flow.deliver_pending()
        message = self._messages(order)
        self.assertEqual(message.state, "dead")
        self.assertIn("SSRF", message.last_error)
        self.assertFalse(self.receiver.received())

    def test_https_only_refuses_plain_http(self):
        self.env["ir.config_parameter"].set_param("logistics_sync_webhook.https_only", "True")
        order = self._confirmed_order()
        self.flow.deliver_pending()
        self.assertEqual(self._messages(order).state, "dead")
        self.assertFalse(self.receiver.received())

    def test_dead_partner_does_not_delay_a_healthy_one(self):
        dead = self._subscription("Dead partner", self.market, "/dead", timeout=2)
        self.receiver.script["/dead"] = ["hang"]
        with trap_jobs() as trap:
            order = self._confirmed_order()
        jobs = {job.recordset: job for job in trap.enqueued_jobs}
        self.assertEqual(set(jobs), {self.flow, dead}, "one delivery job per destination")
        self.assertEqual(jobs[self.flow].channel, "root.logistics_sync.deliver.t_wms")
        self.assertEqual(jobs[dead].channel, "root.logistics_sync.deliver.t_market")
        self.assertEqual(self.flow.deliver_pending(), "1/1 delivered")
        self.assertEqual(self._messages(order).state, "sent")
        self.assertEqual(self._messages(order, dead).state, "pending", "still waiting its turn")

    def test_payload_filter_and_thin_payload(self):
        self.flow.write({"payload_filter": '{"warehouse": "NOPE"}'})
        order = self._confirmed_order()
        self.assertFalse(self._messages(order))
        self.flow.write(
            {"payload_filter": json.dumps({"warehouse": self.warehouse.code}), "thin_payload": True}
        )
        order = self._confirmed_order()
        self.flow.deliver_pending()
        body = json.loads(self.receiver.received()[-1]["body"])
        self.assertEqual(body["data"], {})
        self.assertEqual(body["aggregate"]["id"], self._events(order).aggregate_canonical_id)

    def test_batch_flow_sends_one_array_on_schedule(self):
        batch = self._subscription(
            "Nightly", self.carrier, "/batch", mode="batch", batch_size=10, batch_interval=60
        )
        orders = [self._confirmed_order() for _index in range(2)]
        self.assertFalse(self.receiver.received("/batch"), "batch messages wait")
        with trap_jobs() as trap:
            self.env["logistics.sync.flow"]._cron_deliver_due()
        batch_jobs = [job for job in trap.enqueued_jobs if job.recordset == batch]
        self.assertEqual([job.method_name for job in batch_jobs], ["deliver_batch"])
        self.assertIn("batch_", batch.deliver_batch())
        [request] = self.receiver.received("/batch")
        envelopes = json.loads(request["body"])
        self.assertEqual(len(envelopes), 2)
        self.assertEqual(
            {e["id"] for e in envelopes}, {self._messages(o, batch).uid for o in orders}
        )
        self.assertTrue(request["headers"]["webhook-id"].startswith("batch_"))
        with trap_jobs() as trap:
            self.env["logistics.sync.flow"]._cron_deliver_due()
        self.assertFalse(
            [j for j in trap.enqueued_jobs if j.recordset == batch], "not due again yet"
        )

    def test_a_failed_batch_is_retried_on_the_retry_schedule(self):
        batch = self._subscription(
            "Hourly",
            self.carrier,
            "/batch-retry",
            mode="batch",
            batch_size=10,
            batch_interval=60,
            retry_schedule="0, 10, 1200, 3600",
        )
        self.receiver.script["/batch-retry"] = [503, 503, 200]
        orders = [self._confirmed_order() for _index in range(2)]
        messages = self.env["logistics.sync.message"].browse(
            [self._messages(o, batch).id for o in orders]
        )
        Flow = self.env["logistics.sync.flow"]

        def batch_jobs(trap):
            return [j for j in trap.enqueued_jobs if j.recordset == batch]

        with trap_jobs() as trap:
            self.assertIn("retry", batch.deliver_batch())
        messages.invalidate_recordset()
        self.assertEqual(set(messages.mapped("state")), {"failed"})
        soonest = min(messages.mapped("next_attempt_at"))
        self.assertLess(soonest, fields.Datetime.now() + timedelta(seconds=13))
        [job] = batch_jobs(trap)  # 10 s (+/- 20 %): a job at that time, not in 60 minutes
        self.assertEqual((job.method_name, job.eta), ("deliver_batch", soonest))
        # the job lost, the minute cron starts the retry once due, not at the batch interval
        with freeze_time(soonest - timedelta(seconds=1)), trap_jobs() as trap:
            Flow._cron_deliver_due()
        self.assertFalse(batch_jobs(trap), "not due yet")
        latest = max(messages.mapped("next_attempt_at")) + timedelta(seconds=1)
        with freeze_time(latest), trap_jobs() as trap:
            Flow._cron_deliver_due()
            self.assertEqual([j.method_name for j in batch_jobs(trap)], ["deliver_batch"])
            self.assertIn("retry", batch.deliver_batch())
        # second failure: 1200 s (+/- 20 %), left to the cron
        messages.invalidate_recordset()
        self.assertEqual(messages.mapped("attempt_count"), [2, 2])
        self.assertEqual(len(batch_jobs(trap)), 1, "the cron's job, none 20 minutes ahead")
        soonest = min(messages.mapped("next_attempt_at"))
        self.assertGreater(soonest, latest + timedelta(seconds=900))
        with freeze_time(soonest - timedelta(seconds=1)), trap_jobs() as trap:
            Flow._cron_deliver_due()
        self.assertFalse(batch_jobs(trap))
        due = max(messages.mapped("next_attempt_at")) + timedelta(seconds=1)
        with freeze_time(due), trap_jobs() as trap:
            Flow._cron_deliver_due()
            self.assertEqual(len(batch_jobs(trap)), 1)
            self.assertIn("delivered", batch.deliver_batch())
        messages.invalidate_recordset()
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        requests = self.receiver.received("/batch-retry")
        self.assertEqual(len(requests), 3)
        self.assertEqual(
            [{e["id"] for e in json.loads(r["body"])} for r in requests],
            [set(messages.mapped("uid"))] * 3,
            "each retry carries the same messages with the same ids",
        )

    def test_nothing_leaves_unsigned(self):
        self.flow.signing_key_ids.unlink()
        order = self._confirmed_order()
        self.assertEqual(self.flow.deliver_pending(), "not sent: no signing secret")
        self.assertEqual(self._messages(order).state, "pending")
        self.assertFalse(self.receiver.received())
        self.assertIn(self.manager, self.flow.activity_ids.user_id)
