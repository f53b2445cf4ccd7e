import threading
from datetime import timedelta
from unittest import mock

from svix.webhooks import Webhook as SvixWebhook

from odoo import fields
from odoo.tests import tagged

from odoo.addons.logistics_sync_core.tests.common import CommittedCase
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from ..models import logistics_sync_flow
from .common import WebhookCase
from .receiver import Receiver


@tagged("post_install", "-at_install")
class TestDeliveryRules(WebhookCase):
    def test_partner_verifies_with_svix_and_gets_custom_headers(self):
        self.flow.custom_headers = "X-Partner-Account: 42\nX-Env: test"
        order = self._confirmed_order()
        self.flow.deliver_pending()
        [request] = self.receiver.received("/hook")
        self.assertEqual(request["headers"]["X-Partner-Account"], "42")
        # svix verifies and raises on failure; its own check of the timestamp applies
        SvixWebhook(self.secret).verify(request["body"], request["headers"])
        self.assertTrue(order)

    def test_a_second_routing_absorbed_by_the_constraint_is_counted(self):
        order = self._create_order()
        order.action_confirm()
        events = self._events(order).filtered(lambda e: e.type_code == "order.confirmed")
        self.assertTrue(events._route())
        events.state = "new"  # as if the routing job ran again after a crash
        self.assertFalse(events._route())
        logged = self.env["logistics.sync.edge.log"].search([("direction", "=", "outbound")])
        self.assertEqual(
            [(log.outcome, log.system_id) for log in logged], [("duplicate", self.wms)]
        )

    def test_rate_limit_spaces_the_requests(self):
        self.flow.rate_limit = 4
        for _index in range(3):
            self._confirmed_order()
        with mock.patch.object(logistics_sync_flow.time, "sleep") as sleep:
            self.assertEqual(self.flow.deliver_pending(), "3/3 delivered")
        self.assertEqual([call.args[0] for call in sleep.call_args_list], [0.25, 0.25])

    def test_paused_subscription_or_system_sends_nothing(self):
        order = self._confirmed_order()
        self.flow.action_pause()
        self.assertEqual(self.flow.deliver_pending(), "not sent: subscription paused")
        self.flow.action_enable()
        self.wms.action_pause()
        self.assertEqual(self.flow.deliver_pending(), "not sent: system paused")
        self.assertEqual(self._messages(order).state, "pending")
        self.assertFalse(self.receiver.received())

    def test_minute_cron_picks_up_due_retries(self):
        self.receiver.script["/hook"] = [500, 200]
        with trap_jobs():  # no job left queued: the cron is the only one to act
            order = self._confirmed_order()
            self.flow.deliver_pending()
        message = self._messages(order)
        message.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        with trap_jobs() as trap:
            self.env["logistics.sync.flow"]._cron_deliver_due()
        trap.assert_enqueued_job(self.flow.deliver_pending)
        self.flow.deliver_pending()
        self.assertEqual(message.state, "sent")

    def test_enqueued_delivery_is_not_duplicated(self):
        with trap_jobs() as trap:
            self._confirmed_order()
        self.assertEqual(len(trap.enqueued_jobs), 1)
        self.assertEqual(trap.enqueued_jobs[0].method_name, "deliver_pending")
        # a real pending job (not trapped) absorbs the next routing's delivery
        self.flow._schedule_delivery()
        with trap_jobs() as trap:
            self._confirmed_order()
        trap.assert_jobs_count(0)


@tagged("post_install", "-at_install")
class TestDeliveryCommitted(CommittedCase):
    """What only real commits show: a rolled-back business change sends nothing; two
    delivery jobs of one subscription never run at once."""

    def setUp(self):
        super().setUp()
        self.receiver = Receiver()
        self.receiver.__enter__()
        self.addCleanup(self.receiver.__exit__, None, None, None)
        with self._cursor() as env:
            env["ir.config_parameter"].set_param(
                "logistics_sync_webhook.allowed_networks", "127.0.0.1/32"
            )
            system = self._remember(
                env["logistics.sync.system"].create(
                    {"name": "C", "code": "t_commit", "kind": "wms"}
                )
            )
            flow = env["logistics.sync.flow"].create(
                {
                    "name": "Committed subscription",
                    "system_id": system.id,
                    "event_type_ids": [
                        (6, 0, env["logistics.sync.event.type"]._get("order.confirmed").ids)
                    ],
                    "transport": "http",
                    "url": self.receiver.url(),
                }
            )
            self._remember(flow)
            self._remember(env["logistics.sync.signing.key"]._generate(flow)[0])
            partner = self._remember(env["res.partner"].create({"name": "Rollback customer"}))
            product = env["product.product"].create({"name": "Svc", "type": "service"})
            self._remember(product.product_tmpl_id)
            self._remember(product)
            self.flow_id, self.partner_id, self.product_id = flow.id, partner.id, product.id
        self.addCleanup(self._reset_allowed_networks)

    def _reset_allowed_networks(self):
        with self._cursor() as env:
            env["ir.config_parameter"].set_param("logistics_sync_webhook.allowed_networks", "")
            env.cr.execute(
                "DELETE FROM logistics_sync_delivery_lock WHERE flow_id = %s", (self.flow_id,)
            )

    def test_rolled_back_change_sends_nothing(self):
        with self._cursor() as env:
            order = env["sale.order"].create(
                {
                    "partner_id": self.partner_id,
                    "order_line": [(0, 0, {"product_id": self.product_id, "product_uom_qty": 1})],
                }
            )
            order.action_confirm()
            env.cr.flush()  # pre-commit hooks ran: the routing job exists in this transaction
            self.assertTrue(
                env["queue.job"].search_count(
                    [("method_name", "=", "route"), ("state", "=", "pending")]
                )
            )
            env.cr.rollback()
        with self._cursor() as env:
            flow = env["logistics.sync.flow"].browse(self.flow_id)
            self.assertEqual(flow.deliver_pending(), "nothing to send")
            self.assertFalse(
                env["logistics.sync.message"].search_count([("flow_id", "=", self.flow_id)])
            )
        self.assertFalse(self.receiver.received())

    def test_two_deliveries_of_one_subscription_never_overlap(self):
        holding, release, outcome = threading.Event(), threading.Event(), []

        def first_job():
            with self._cursor() as env:
                env["logistics.sync.flow"].browse(self.flow_id)._lock()
                holding.set()
                release.wait(10)

        thread = threading.Thread(target=first_job)
        thread.start()
        holding.wait(10)
        try:
            with self._cursor() as env:
                try:
                    env["logistics.sync.flow"].browse(self.flow_id)._lock()
                    outcome.append("locked")
                except RetryableJobError as exc:
                    outcome.append(str(exc))
        finally:
            release.set()
            thread.join(10)
        self.assertEqual(outcome, ["another job is delivering this subscription"])
