import json
import time
import uuid

import pika

#: The RabbitMQ server the tests use (guest may only log in from localhost).
BROKER = "amqp://guest:guest@127.0.0.1:5672/%2F"


class AmqpQueueMixin:
    """A fresh queue on the local RabbitMQ server per test (deleted afterwards), a system
    reading it, and the steps of a consume job's life: run, commit, roll back.

    A test's transaction never commits: :meth:`_commit` runs what a commit runs afterwards
    (the post-commit hooks, the acknowledgement among them), with the registry in test mode
    so that hooks opening a cursor work in the test's transaction."""

    def setUp(self):
        super().setUp()
        self.registry.enter_test_mode(self.env.cr)
        self.addCleanup(self.registry.leave_test_mode)
        # the broker is on the loopback: the SSRF guard refuses it unless allowed
        self.env["ir.config_parameter"].set_param(
            "logistics_sync_webhook.allowed_networks", "127.0.0.1/32"
        )
        self.queue = f"ls_test_in_{uuid.uuid4().hex[:10]}"
        connection = pika.BlockingConnection(pika.URLParameters(BROKER))
        self.addCleanup(connection.close)
        self.amqp_channel = connection.channel()
        self.amqp_channel.queue_declare(self.queue, durable=True)
        self.addCleanup(self.amqp_channel.queue_delete, self.queue)

    def _read_queue(self, system):
        system.write(
            {
                "inbound_amqp_active": True,
                "inbound_amqp_url": "amqp://guest@127.0.0.1:5672/%2F",
                "inbound_amqp_queue": self.queue,
            }
        )
        self.env["logistics.sync.secret"].create(
            {"system_id": system.id, "name": "inbound_amqp_password", "value": "guest"}
        )

    def _publish(self, body, message_id=None, content_type="application/json"):
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        self.amqp_channel.basic_publish(
            "",
            self.queue,
            body,
            properties=pika.BasicProperties(
                content_type=content_type,
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=message_id,
            ),
        )

    def _ready(self, expected, timeout=3.0):
        """Messages ready in the queue (not taken, or given back), polled for up to
        ``timeout`` seconds until it is ``expected`` (the broker requeues a closed
        connection's messages asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.amqp_channel.queue_declare(self.queue, passive=True).method.message_count
            if count == expected or time.monotonic() > deadline:
                return count
            time.sleep(0.05)

    def _ready_settled(self):
        """Messages ready once the broker had time to requeue what a closed connection
        did not acknowledge: 0 proves the acknowledgement."""
        time.sleep(0.5)
        return self._ready(None, timeout=0)

    def _commit(self):
        """What the job's commit does after it: run the post-commit hooks."""
        self.env.flush_all()
        self.env.cr.postcommit.run()
