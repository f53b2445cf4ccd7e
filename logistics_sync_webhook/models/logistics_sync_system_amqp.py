import logging

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import amqp

_logger = logging.getLogger(__name__)

#: Credential (core encrypted secret) holding the password of the consuming login; without
#: it, the one of the system's RabbitMQ subscriptions (``amqp_password``) is used.
SECRET_AMQP_INBOUND_PASSWORD = "inbound_amqp_password"
SECRET_AMQP_PASSWORD = "amqp_password"
CONSUME_CHANNEL = "root.logistics_sync.inbound"
#: Longest a consume job takes messages for (well under Odoo's worker time limits, and
#: under RabbitMQ's heartbeat: the connection is idle while the job stores the messages).
CONSUME_SECONDS = 20
CONSUME_TIMEOUT = 15

# PostgreSQL advisory lock class of the per-system consumer ("LSAQ"); the system id is the key.
_CONSUME_LOCK = 0x4C534151


class LogisticsSyncSystem(models.Model):
    _inherit = "logistics.sync.system"

    inbound_amqp_active = fields.Boolean(
        string="Consume from RabbitMQ",
        help="Take this system's messages from a RabbitMQ queue, every minute: they are "
        "received exactly as its webhooks are (same message ids, duplicates absorbed, same "
        "event types and handlers).",
    )
    inbound_amqp_url = fields.Char(
        string="Broker URL",
        help="amqp://user@host:5672/vhost (amqps:// for TLS). The password is the credential "
        "'inbound_amqp_password', else 'amqp_password' (the one of the RabbitMQ "
        "subscriptions).",
    )
    inbound_amqp_queue = fields.Char(
        string="Queue",
        help="The queue Odoo reads (it must exist; Odoo does not declare it). Each message "
        "body is an envelope as a webhook's; its message_id property (else the envelope's "
        "id) is the message id.",
    )
    inbound_amqp_batch = fields.Integer(
        string="Messages per run",
        default=100,
        help="At most this many messages are taken by one run (and for at most "
        f"{CONSUME_SECONDS} seconds); a full run starts the next one at once.",
    )
    inbound_amqp_last_run_at = fields.Datetime(string="Last read", readonly=True, copy=False)
    inbound_amqp_last_result = fields.Char(string="Last result", readonly=True, copy=False)

    @api.constrains("inbound_amqp_active", "inbound_amqp_url", "inbound_amqp_queue")
    def _check_inbound_amqp(self):
        for system in self:
            if not system.inbound_amqp_active:
                continue
            if not (system.inbound_amqp_url and system.inbound_amqp_queue):
                raise ValidationError(
                    self.env._("Consuming from RabbitMQ needs the broker URL and the queue.")
                )
            if not 1 <= system.inbound_amqp_batch <= 10000:
                raise ValidationError(self.env._("Messages per run must be 1 to 10,000."))

    def action_inbound_amqp_consume(self):
        """Read the queue now (in a job)."""
        self.check_access("write")
        self.filtered("inbound_amqp_active")._inbound_amqp_enqueue()

    def _inbound_amqp_enqueue(self):
        for system in self:
            system.with_delay(
                channel=CONSUME_CHANNEL,
                identity_key=f"logistics_sync_inbound_amqp_{system.id}",
                description=f"Read the RabbitMQ queue of {system.code}",
            ).inbound_amqp_consume()

    @api.model
    def _cron_inbound_amqp_consume(self):
        """Every minute: a consume job for each system reading a queue, unless paused."""
        self.search(
            [("inbound_amqp_active", "=", True), ("state", "!=", "paused")]
        )._inbound_amqp_enqueue()

    @api.private
    def inbound_amqp_consume(self):
        """Job: take the messages waiting in this system's queue (public entry point)."""
        self.ensure_one()
        return self._inbound_amqp_consume()

    def _inbound_amqp_consume(self):
        """Take up to :attr:`inbound_amqp_batch` messages from the queue and store each
        through the inbound intake; acknowledge them only after this transaction commits.

        Why acknowledge after the commit: an acknowledged message is gone from the broker.
        Acknowledged before the commit, a message whose transaction then rolls back
        (serialization failure, a worker killed, the database gone) would be lost. After
        the commit, the worst case is the opposite: committed, but the acknowledgement lost
        (connection cut, process killed in between), so the broker delivers it again; the
        intake then finds its message id already stored and absorbs it. At-least-once from
        the broker, exactly-once application here.

        A broker failure before anything is taken, or a failure of this transaction,
        acknowledges nothing: the messages stay in the queue (the connection is closed, so
        the broker gives them to the next reader).
        """
        self.ensure_one()
        cr = self.env.cr
        if not self.inbound_amqp_active or self.state == "paused":
            return f"not read: {'system paused' if self.inbound_amqp_active else 'inactive'}"
        # one reader per system, so that messages are stored in the order of the queue
        cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (_CONSUME_LOCK, self.id))
        if not cr.fetchone()[0]:
            return "another job is reading this queue"
        password = self._secret(SECRET_AMQP_INBOUND_PASSWORD) or self._secret(SECRET_AMQP_PASSWORD)
        try:
            consumer = amqp.Consumer(self.inbound_amqp_url, password, timeout=CONSUME_TIMEOUT)
        except amqp.ConsumeError as exc:
            return self._inbound_amqp_done(f"broker unreachable: {exc}")
        try:
            result = self._inbound_amqp_store(consumer)
        except BaseException:
            consumer.close()  # nothing acknowledged: the broker delivers them again
            raise
        # after the commit only (see above); a rollback closes without acknowledging
        cr.postcommit.add(consumer.ack_and_close)
        cr.postrollback.add(consumer.close)
        return result

    def _inbound_amqp_store(self, consumer):
        Inbound = self.env["logistics.sync.inbound.message"]
        queue = self.inbound_amqp_queue
        try:
            deliveries = consumer.take(queue, self.inbound_amqp_batch, CONSUME_SECONDS)
        except amqp.ConsumeError as exc:
            _logger.info("RabbitMQ queue of %s could not be read: %s", self.code, exc)
            return self._inbound_amqp_done(f"queue unreadable: {exc}")
        counts = {"accepted": 0, "duplicate": 0, "refused": 0}
        for delivery in deliveries:
            _message, outcome = Inbound._receive_amqp(self, delivery, queue)
            counts[outcome] += 1
        if len(deliveries) >= self.inbound_amqp_batch:
            # a full run: more may wait; the next job starts once this one committed
            self._inbound_amqp_enqueue()
        return self._inbound_amqp_done(
            "{} taken: {accepted} accepted, {duplicate} duplicate(s), {refused} refused".format(
                len(deliveries), **counts
            )
        )

    def _inbound_amqp_done(self, result):
        self.write(
            {"inbound_amqp_last_run_at": fields.Datetime.now(), "inbound_amqp_last_result": result}
        )
        return result
