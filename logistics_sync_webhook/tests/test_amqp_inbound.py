import psycopg2

from odoo.sql_db import db_connect
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.logistics_sync_core.tests.common import LogisticsSyncCase
from odoo.addons.queue_job.tests.common import trap_jobs

from .amqp_common import AmqpQueueMixin
from .inbound_common import order_data


def order_envelope(external_id="MK-AMQP-1", **extra):
    return {"type": "order.created", "data": order_data(external_id), **extra}


@tagged("post_install", "-at_install")
class TestAmqpInbound(AmqpQueueMixin, LogisticsSyncCase):
    """Inbound messages taken from a queue of the RabbitMQ server on 127.0.0.1:5672."""

    def setUp(self):
        super().setUp()
        self._read_queue(self.market)
        self.Inbound = self.env["logistics.sync.inbound.message"]

    def _consume(self, system=None):
        with trap_jobs():
            return (system or self.market).inbound_amqp_consume()

    def _messages(self):
        return self.Inbound.search([("system_id", "=", self.market.id)])

    def _orders(self, external_id):
        return self.env["sale.order"].search([("client_order_ref", "=", external_id)])

    def test_a_message_is_received_as_a_webhook_and_acknowledged_after_the_commit(self):
        self._publish(order_envelope(), message_id="amqp-1")
        result = self._consume()
        self.assertEqual(result, "1 taken: 1 accepted, 0 duplicate(s), 0 refused")
        message = self._messages()
        self.assertEqual(
            (message.message_id, message.transport, message.type_code, message.state),
            ("amqp-1", "amqp", "order.created", "received"),
        )
        self.assertEqual(message.headers["amqp-queue"], self.queue)
        # taken, not yet acknowledged: nothing is ready, nothing is gone either
        self.assertEqual(self._ready(0), 0)
        self._commit()
        self.assertEqual(self._ready_settled(), 0, "acknowledged once committed")
        message.process()
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(len(self._orders("MK-AMQP-1")), 1)
        self.assertEqual(self.market.inbound_amqp_last_result, result)

    def test_a_duplicate_delivery_is_applied_once(self):
        # the same message published twice (a publisher retrying after a lost confirm)
        self._publish(order_envelope(), message_id="amqp-dup")
        self._publish(order_envelope(), message_id="amqp-dup")
        self.assertEqual(self._consume(), "2 taken: 1 accepted, 1 duplicate(s), 0 refused")
        self._commit()
        self._messages().process()
        # and once more after it was applied (an acknowledgement lost after the commit)
        self._publish(order_envelope(), message_id="amqp-dup")
        self.assertEqual(self._consume(), "1 taken: 0 accepted, 1 duplicate(s), 0 refused")
        self._commit()
        self.assertEqual(len(self._messages()), 1)
        self.assertEqual(self._messages().state, "done")
        self.assertEqual(len(self._orders("MK-AMQP-1")), 1)
        self.assertEqual(self._ready_settled(), 0)

    def test_without_message_id_property_the_envelope_id_is_the_message_id(self):
        self._publish(order_envelope(id="env-7"))
        self._publish(order_envelope(id="env-7"))
        self._consume()
        self.assertEqual(self._messages().mapped("message_id"), ["env-7"])

    def test_a_malformed_message_is_an_error_record_and_acknowledged(self):
        self._publish(b'{"type": "order.created", "data": ', message_id="bad-1")
        self._publish({"type": "order.created", "data": {"lines": []}}, message_id="bad-2")
        self._publish(order_envelope(), message_id="good-1")
        result = self._consume()
        self.assertEqual(result, "3 taken: 1 accepted, 0 duplicate(s), 2 refused")
        refused = self._messages().filtered(lambda m: m.state == "error")
        self.assertEqual(len(refused), 2)
        by_id = {m.headers["amqp-message-id"]: m for m in refused}
        self.assertIn("(malformed_json)", by_id["bad-1"].error)
        self.assertEqual(by_id["bad-1"].body, '{"type": "order.created", "data": ')
        self.assertIn("(schema_violation)", by_id["bad-2"].error)
        self.assertEqual(by_id["bad-2"].type_code, "order.created")
        self.assertTrue(all(m.refused and m.message_id.startswith("refused-") for m in refused))
        self._commit()
        self.assertEqual(self._ready_settled(), 0, "the malformed messages are not taken again")
        # the same bad message delivered again is the same record; retrying it does nothing
        self._publish(b'{"type": "order.created", "data": ', message_id="bad-1")
        self.assertEqual(self._consume(), "1 taken: 0 accepted, 0 duplicate(s), 1 refused")
        self.assertEqual(len(self._messages()), 3)
        by_id["bad-1"].with_user(self.manager).action_retry()
        by_id["bad-1"].process()
        self.assertEqual(by_id["bad-1"].state, "error")
        self.assertEqual(by_id["bad-1"].attempt_count, 0)
        # a corrected message under the refused one's id is received
        self._publish(order_envelope("MK-AMQP-2"), message_id="bad-1")
        self.assertEqual(self._consume(), "1 taken: 1 accepted, 0 duplicate(s), 0 refused")

    def test_messages_stay_in_the_queue_when_the_transaction_fails(self):
        self._publish(order_envelope(), message_id="amqp-a")
        self._publish(order_envelope("MK-AMQP-2"), message_id="amqp-b")
        # another transaction holds the inbound table: storing fails before any commit
        other = db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(other.close)
        other.execute("LOCK TABLE logistics_sync_inbound_message IN SHARE MODE")
        self.addCleanup(other.rollback)
        with self.assertRaises(psycopg2.errors.LockNotAvailable):
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                self.env.cr.execute("SET LOCAL lock_timeout = '300ms'")
                self._consume()
        other.rollback()
        self.assertEqual(self._ready(2), 2, "nothing acknowledged: both are given back")
        self.assertFalse(self._messages())
        # the next run takes them again
        self.assertEqual(self._consume(), "2 taken: 2 accepted, 0 duplicate(s), 0 refused")
        self._commit()
        self.assertEqual(self._ready_settled(), 0)

    def test_a_rolled_back_run_acknowledges_nothing(self):
        self._publish(order_envelope(), message_id="amqp-r")
        self._consume()
        self.env.cr.postcommit.clear()  # what a rollback does to the post-commit hooks
        self.env.cr.postrollback.run()
        self.assertEqual(self._ready(1), 1)

    def test_unreachable_broker_and_missing_queue_are_reported(self):
        with mute_logger("pika"):
            self.market.inbound_amqp_url = "amqp://guest@127.0.0.1:1/%2F"
            self.assertIn("broker unreachable", self._consume())
            self.market.inbound_amqp_url = "amqp://guest@127.0.0.1:5672/%2F"
            self.market.inbound_amqp_queue = f"{self.queue}_missing"
            self.assertIn("queue unreadable", self._consume())
        self.assertIn("NOT_FOUND", self.market.inbound_amqp_last_result)

    def test_a_broker_the_ssrf_guard_refuses_is_not_read(self):
        self._publish(order_envelope(), message_id="amqp-guarded")
        self.env["ir.config_parameter"].set_param("logistics_sync_webhook.allowed_networks", "")
        result = self._consume()
        self.assertIn("refused by the SSRF guard", result)
        self.assertIn("127.0.0.1", result)
        self.assertFalse(self._messages())
        self._commit()
        self.assertEqual(self._ready_settled(), 1, "the message waits in the queue")

    def test_cron_and_button_enqueue_one_job_per_reading_system(self):
        with trap_jobs() as trap:
            self.env["logistics.sync.system"]._cron_inbound_amqp_consume()
        trap.assert_jobs_count(1, only=self.market.inbound_amqp_consume)
        self.assertEqual(trap.enqueued_jobs[0].channel, "root.logistics_sync.inbound")
        self.assertEqual(
            trap.enqueued_jobs[0].identity_key, f"logistics_sync_inbound_amqp_{self.market.id}"
        )
        with trap_jobs() as trap:
            self.market.with_user(self.manager).action_inbound_amqp_consume()
        trap.assert_jobs_count(1, only=self.market.inbound_amqp_consume)
        self.market.action_pause()
        with trap_jobs() as trap:
            self.env["logistics.sync.system"]._cron_inbound_amqp_consume()
        trap.assert_jobs_count(0)
        self.assertEqual(self._consume(), "not read: system paused")
        self.assertEqual(self._ready(0), 0)

    def test_a_full_run_starts_the_next_one(self):
        self.market.inbound_amqp_batch = 2
        for index in range(3):
            self._publish(order_envelope(f"MK-{index}"), message_id=f"amqp-{index}")
        with trap_jobs() as trap:
            self.assertEqual(
                self.market.inbound_amqp_consume(),
                "2 taken: 2 accepted, 0 duplicate(s), 0 refused",
            )
        trap.assert_jobs_count(1, only=self.market.inbound_amqp_consume)
        self._commit()
        self.assertEqual(self._ready(1), 1)

    def test_only_managers_configure_and_start_the_reading(self):
        from odoo.exceptions import AccessError

        with self.assertRaises(AccessError):
            self.market.with_user(self.user).action_inbound_amqp_consume()
        with self.assertRaises(AccessError):
            self.market.with_user(self.user).write({"inbound_amqp_queue": "elsewhere"})
