import uuid

import pika

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..signing import verify
from .common import WebhookCase

BROKER = "amqp://guest:guest@127.0.0.1:5672/%2F"


@tagged("post_install", "-at_install")
class TestAmqp(WebhookCase):
    """Against the RabbitMQ server on 127.0.0.1:5672."""

    def setUp(self):
        super().setUp()
        self.exchange = f"ls_test_{uuid.uuid4().hex[:8]}"
        connection = pika.BlockingConnection(pika.URLParameters(BROKER))
        self.addCleanup(connection.close)
        self.channel = connection.channel()
        self.channel.exchange_declare(self.exchange, "topic", auto_delete=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, self.exchange, "order.#")
        self.addCleanup(self.channel.exchange_delete, self.exchange)
        self.amqp_flow = self.env["logistics.sync.flow"].create(
            {
                "name": "Orders to the bus",
                "system_id": self.carrier.id,
                "event_type_ids": [(6, 0, self.types._get("order.confirmed").ids)],
                "transport": "amqp",
                "amqp_url": "amqp://guest@127.0.0.1:5672/%2F",
                "amqp_exchange": self.exchange,
            }
        )
        self.env["logistics.sync.secret"].create(
            {"system_id": self.carrier.id, "name": "amqp_password", "value": "guest"}
        )
        self.amqp_secret = self.env["logistics.sync.signing.key"]._generate(self.amqp_flow)[1]

    def test_persistent_confirmed_signed_publication(self):
        order = self._confirmed_order()
        message = self._messages(order, self.amqp_flow)
        self.assertEqual(self.amqp_flow.deliver_pending(), "1/1 delivered")
        self.assertEqual(message.state, "sent")
        method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
        self.assertEqual(method.routing_key, "order.confirmed")
        self.assertEqual(properties.message_id, message.uid)
        self.assertEqual(properties.delivery_mode, 2)
        self.assertEqual(body, message._body())
        headers = {k: str(v) for k, v in properties.headers.items()}
        self.assertEqual(verify(headers, body, [self.amqp_secret]), message.uid)

    def test_unreachable_broker_is_retried(self):
        self.amqp_flow.amqp_url = "amqp://guest@127.0.0.1:1/%2F"
        order = self._confirmed_order()
        with mute_logger("pika"):  # pika logs the refused connection as errors
            self.amqp_flow.deliver_pending()
        message = self._messages(order, self.amqp_flow)
        self.assertEqual(message.state, "failed")
        self.assertIn("cannot connect to RabbitMQ", message.last_error)

    def test_a_broker_the_ssrf_guard_refuses_is_never_connected(self):
        self.env["ir.config_parameter"].set_param("logistics_sync_webhook.allowed_networks", "")
        order = self._confirmed_order()
        self.amqp_flow.deliver_pending()
        message = self._messages(order, self.amqp_flow)
        self.assertEqual(message.state, "dead")
        self.assertIn("SSRF", message.last_error)
        self.assertEqual(message.attempt_ids.mapped("outcome"), ["refused"])
        method, _properties, _body = self.channel.basic_get(self.queue, auto_ack=True)
        self.assertIsNone(method, "nothing published")

    def test_unroutable_message_is_a_failure(self):
        self.amqp_flow.amqp_routing_key = "nobody.listens"
        order = self._confirmed_order()
        with mute_logger("pika"):  # pika warns about the returned message
            self.amqp_flow.deliver_pending()
        self.assertEqual(self._messages(order, self.amqp_flow).state, "failed")
