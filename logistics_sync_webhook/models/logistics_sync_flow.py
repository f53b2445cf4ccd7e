import json
import logging
import time
import uuid
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.queue_job.exception import RetryableJobError

from .. import amqp, delivery, http_client, signing

_logger = logging.getLogger(__name__)

DELIVER_CHANNEL = "root.logistics_sync.deliver"
BATCH_PER_JOB = 250  # messages one delivery job sends over one kept-alive connection
SHORT_RETRY = 60  # retries sooner than this get their own job; later ones the minute cron


class LogisticsSyncFlow(models.Model):
    """A flow with transport HTTP or RabbitMQ is a *subscription*: it delivers its messages,
    signed per Standard Webhooks, with retries, ordering per aggregate and a circuit
    breaker."""

    _name = "logistics.sync.flow"
    _inherit = ["logistics.sync.flow", "mail.activity.mixin"]

    transport = fields.Selection(
        selection_add=[("http", "Webhook (HTTP)"), ("amqp", "RabbitMQ")],
        ondelete={"http": "set default", "amqp": "set default"},
    )
    url = fields.Char(
        string="Endpoint URL", help="Where messages are POSTed (http or https; see SSRF rules)."
    )
    amqp_url = fields.Char(
        string="RabbitMQ URL",
        help="amqp://user@host:5672/vhost. The password is the system credential named "
        "'amqp_password'.",
    )
    amqp_exchange = fields.Char(string="Exchange")
    amqp_routing_key = fields.Char(
        string="Routing key", help="Empty: the event type, e.g. 'order.confirmed'."
    )
    custom_headers = fields.Text(
        help="Extra HTTP headers, one 'Name: value' per line (never put secrets here)."
    )
    timeout = fields.Integer(
        string="Timeout (s)", default=15, help="Per request; between 1 and 30 seconds."
    )
    rate_limit = fields.Float(
        string="Rate limit (messages/s)", help="Most messages per second; 0 means no limit."
    )
    delivery_state = fields.Selection(
        [
            ("enabled", "Enabled"),
            ("paused", "Paused"),
            ("disabled", "Disabled"),
            ("tripped", "Tripped"),
        ],
        default="enabled",
        required=True,
        tracking=True,
        help="Paused: messages wait. Disabled: the endpoint answered 410 Gone or a manager "
        "disabled it. Tripped: the circuit breaker stopped sending after repeated failures; "
        "a probe goes through after the cool-down.",
    )
    thin_payload = fields.Boolean(
        help="Send only the event type and ids; the partner reads details from the API."
    )
    payload_filter = fields.Text(
        help='JSON object of payload paths and values, e.g. {"picking_type": "outgoing"}: '
        "only events whose payload matches every entry are sent.",
    )
    retry_schedule = fields.Char(
        default=delivery.DEFAULT_SCHEDULE,
        required=True,
        help="Seconds to wait before each attempt, comma-separated; the first is the "
        "first attempt. After the last one a message is dead-lettered.",
    )
    max_payload_bytes = fields.Integer(
        string="Payload size cap (bytes)",
        default=65536,
        help="Larger messages fail clearly instead of being sent; send links for big data.",
    )
    breaker_threshold = fields.Integer(
        string="Trip after failures", default=5, help="Consecutive failures that trip it."
    )
    breaker_cooldown = fields.Integer(string="Breaker cool-down (s)", default=60)
    consecutive_failures = fields.Integer(readonly=True, copy=False)
    tripped_until = fields.Datetime(readonly=True, copy=False)
    last_batch_at = fields.Datetime(readonly=True, copy=False)
    signing_key_ids = fields.One2many("logistics.sync.signing.key", "flow_id")
    dead_count = fields.Integer(compute="_compute_dead_count", string="Dead-lettered")

    @api.constrains("timeout", "retry_schedule", "payload_filter", "transport", "url")
    def _check_delivery_settings(self):
        for flow in self:
            if not 1 <= flow.timeout <= 30:
                raise ValidationError(_("The timeout must be between 1 and 30 seconds."))
            try:
                delivery.parse_schedule(flow.retry_schedule)
            except ValueError as exc:
                raise ValidationError(_("Retry schedule: %s", exc)) from exc
            if flow.payload_filter:
                try:
                    assert isinstance(json.loads(flow.payload_filter), dict)
                except (ValueError, AssertionError) as exc:
                    raise ValidationError(
                        _('The payload filter must be a JSON object, e.g. {"warehouse": "WH"}.')
                    ) from exc
            if flow.transport == "http" and not flow.url:
                raise ValidationError(_("A webhook subscription needs an endpoint URL."))
            if flow.transport == "amqp" and not (flow.amqp_url and flow.amqp_exchange):
                raise ValidationError(_("A RabbitMQ subscription needs a URL and an exchange."))

    def _compute_dead_count(self):
        groups = self.env["logistics.sync.message"]._read_group(
            [("flow_id", "in", self.ids), ("state", "=", "dead")], ["flow_id"], ["__count"]
        )
        counts = {flow.id: count for flow, count in groups}
        for flow in self:
            flow.dead_count = counts.get(flow.id, 0)

    # ---------------------------------------------------------------- routing hooks
    def _matches(self, event):
        if not super()._matches(event):
            return False
        if not self.payload_filter:
            return True
        payload = event.payload or {}
        for path, expected in json.loads(self.payload_filter).items():
            value = payload
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value != expected:
                return False
        return True

    def _shape(self, payload):
        return {} if self.thin_payload else super()._shape(payload)

    # ---------------------------------------------------------------- secrets
    def action_generate_secret(self, algorithm="hmac"):
        """Generate a signing key and show its secret once, in a sticky notification."""
        self.ensure_one()
        key, secret = self.env["logistics.sync.signing.key"]._generate(self, algorithm)
        message = _("Copy it now, it will not be shown again: %s", secret)
        if key.public_key:
            message = _(
                "Give the partner this public key: %(public)s. The private key stays "
                "encrypted in Odoo.",
                public=key.public_key,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("New signing secret for %s", self.name),
                "message": message,
                "sticky": True,
                "type": "warning",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_generate_ed25519(self):
        return self.action_generate_secret("ed25519")

    def action_rotate_secret(self, overlap_hours=24):
        """New secret; the current ones keep signing for ``overlap_hours`` more."""
        self.ensure_one()
        expiry = fields.Datetime.now() + timedelta(hours=overlap_hours)
        current = self.signing_key_ids.filtered(lambda k: k.state == "active")
        algorithm = current[:1].algorithm or "hmac"
        current.sudo().write({"expires_at": expiry})
        return self.action_generate_secret(algorithm)

    # ---------------------------------------------------------------- scheduling
    def _delivery_channel(self):
        self.ensure_one()
        return f"{DELIVER_CHANNEL}.{self.system_id.code}"

    def _schedule_delivery(self, eta=None):
        """Enqueue a delivery job per flow (in the destination's own channel).

        An immediate delivery is not enqueued twice: a job still waiting to start will see
        the new messages when it runs (a new transaction). Jobs already started cannot, and
        are not counted.
        """
        flows = self.filtered(lambda f: f.delivery_state in ("enabled", "tripped"))
        if eta is None and flows:
            waiting = (
                self.env["queue.job"]
                .sudo()
                .search(
                    [
                        ("model_name", "=", self._name),
                        ("method_name", "=", "deliver_pending"),
                        ("state", "=", "pending"),
                        "|",
                        ("eta", "=", False),
                        ("eta", "<=", fields.Datetime.now()),
                    ]
                )
            )
            busy = {flow_id for job in waiting for flow_id in job.records.ids}
            flows = flows.filtered(lambda flow: flow.id not in busy)
        for flow in flows:
            flow.with_delay(
                channel=flow._delivery_channel(),
                eta=eta,
                description=f"Deliver messages of {flow.name}",
            ).deliver_pending()

    def _has_queued_delivery(self):
        self.ensure_one()
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search(
                [
                    ("model_name", "=", self._name),
                    ("method_name", "in", ("deliver_pending", "deliver_batch")),
                    ("state", "in", ("pending", "enqueued")),
                ]
            )
        )
        return bool(jobs.filtered(lambda job: job.records == self))

    @api.model
    def _cron_deliver_due(self):
        """Every minute: retries that came due, breakers whose cool-down ended, batches."""
        now = fields.Datetime.now()
        flows = self.search(
            [
                ("transport", "in", self._delivered_transports()),
                ("delivery_state", "in", ("enabled", "tripped")),
            ]
        )
        for flow in flows:
            if flow.delivery_state == "tripped" and flow.tripped_until and flow.tripped_until > now:
                continue
            if flow._has_queued_delivery():
                continue
            due = not flow.last_batch_at or (
                flow.last_batch_at + timedelta(minutes=flow.batch_interval) <= now
            )
            # a failed batch is retried on the retry schedule, not at the next interval
            due = due or flow._batch_retry_at(until=now)
            if due and flow._ready_messages(limit=1, batched=True):
                flow.with_delay(
                    channel=flow._delivery_channel(),
                    description=f"Deliver a batch of {flow.name}",
                ).deliver_batch()
            elif flow._ready_messages(limit=1):
                flow._schedule_delivery()

    # ---------------------------------------------------------------- delivery
    def init(self):
        # One lock row per subscription, outside the flow table: messages reference the
        # flow, and writing the flow row would make routing transactions fail their
        # foreign-key checks under REPEATABLE READ.
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS logistics_sync_delivery_lock (
                flow_id integer PRIMARY KEY,
                locked_at timestamp without time zone
            )
            """
        )

    def _lock(self):
        """Take this subscription's delivery lock, or ask queue_job to try again shortly.

        The lock row is written too: a job whose snapshot predates another delivery's
        commit then gets a serialization error (queue_job retries the job) instead of
        seeing delivered messages as still pending and sending them twice.
        """
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """
                    INSERT INTO logistics_sync_delivery_lock (flow_id) VALUES (%s)
                    ON CONFLICT (flow_id) DO NOTHING
                    """,
                    (self.id,),
                    log_exceptions=False,
                )
                cr.execute(
                    """
                    SELECT flow_id FROM logistics_sync_delivery_lock
                     WHERE flow_id = %s FOR UPDATE SKIP LOCKED
                    """,
                    (self.id,),
                    log_exceptions=False,
                )
                locked = bool(cr.fetchone())
        except psycopg2.errors.SerializationFailure:
            locked = False  # another delivery committed after this job's snapshot
        if not locked:
            raise RetryableJobError(
                "another job is delivering this subscription", seconds=1, ignore_retry=True
            )
        cr.execute(
            "UPDATE logistics_sync_delivery_lock SET locked_at = %s WHERE flow_id = %s",
            (fields.Datetime.now(), self.id),
        )

    def _ready_messages(self, limit=BATCH_PER_JOB, batched=False):
        """Messages that may go now, oldest first, never ahead of an earlier message of the
        same aggregate that is not delivered or dead-lettered yet (nor of an earlier event
        of that aggregate that is not routed yet). ``batched`` selects the messages that
        wait for the scheduled batch instead of the real-time ones."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT m.id
              FROM logistics_sync_message m
              JOIN logistics_sync_event e ON e.id = m.event_id
             WHERE m.flow_id = %(flow)s
               AND m.batched = %(batched)s
               AND m.state IN ('pending', 'failed')
               AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= %(now)s)
               -- the first of its aggregate left to send: a subquery per candidate over
               -- that aggregate's unsent messages (an anti-join let the planner rescan
               -- every unsent message of the subscription per candidate)
               AND e.sequence = (
                    SELECT min(e2.sequence)
                      FROM logistics_sync_message m2
                      JOIN logistics_sync_event e2 ON e2.id = m2.event_id
                     WHERE m2.flow_id = m.flow_id
                       AND m2.state IN ('pending', 'failed')
                       AND m2.aggregate_canonical_id = m.aggregate_canonical_id)
               AND NOT EXISTS (
                    SELECT 1
                      FROM logistics_sync_event e3
                     WHERE e3.aggregate_model = e.aggregate_model
                       AND e3.aggregate_id = e.aggregate_id
                       AND e3.sequence < e.sequence
                       AND e3.state = 'new')
             ORDER BY m.id
             LIMIT %(limit)s
            """,
            {"flow": self.id, "now": fields.Datetime.now(), "limit": limit, "batched": batched},
        )
        return self.env["logistics.sync.message"].browse([row[0] for row in self.env.cr.fetchall()])

    def deliver_pending(self):
        """Job: deliver this subscription's ready messages (public entry point)."""
        self.ensure_one()
        return self._deliver_pending()

    def _deliver_pending(self):
        self._lock()
        if self.delivery_state not in ("enabled", "tripped"):
            return f"not sent: subscription {self.delivery_state}"
        if self.system_id.state != "active":
            return f"not sent: system {self.system_id.state}"
        now = fields.Datetime.now()
        probe = self.delivery_state == "tripped"
        if probe and self.tripped_until and self.tripped_until > now:
            return "not sent: breaker open"
        messages = self._ready_messages(limit=1 if probe else BATCH_PER_JOB)
        if not messages:
            return "nothing to send"
        secrets = self._signing_secrets() if self._signs_messages() else ()
        if self._signs_messages() and not secrets:
            return "not sent: no signing secret"
        sent = getattr(self, f"_deliver_{self.transport}")(messages, secrets)
        self._schedule_follow_up()
        return f"{sent}/{len(messages)} delivered"

    def _schedule_follow_up(self):
        """More ready now: another job. A retry due soon: a job at that time. Later ones
        are picked up by the minute cron."""
        if self.delivery_state != "enabled":
            return
        if self._ready_messages(limit=1):
            self._schedule_delivery()
            return
        soonest = self._retry_at(batched=False)
        if soonest and soonest <= fields.Datetime.now() + timedelta(seconds=SHORT_RETRY):
            self._schedule_delivery(eta=soonest)

    def _retry_at(self, batched, until=None):
        """When the first failed message (of the batch or real-time ones) is due again;
        ``None`` when none waits (or none before ``until``)."""
        self.ensure_one()
        self.env["logistics.sync.message"].flush_model(
            ["flow_id", "state", "next_attempt_at", "batched"]
        )
        self.env.cr.execute(
            """
            SELECT min(next_attempt_at) FROM logistics_sync_message
             WHERE flow_id = %s AND state = 'failed' AND next_attempt_at IS NOT NULL
               AND batched = %s AND (%s::timestamp IS NULL OR next_attempt_at <= %s)
            """,
            (self.id, batched, until, until),
        )
        return self.env.cr.fetchone()[0]

    def _batch_retry_at(self, until=None):
        return self._retry_at(batched=True, until=until)

    def _schedule_batch_retry(self):
        """After a batch: a failed message due again soon gets a job at that time; later
        ones the minute cron starts when due (whatever the batch interval)."""
        if self.delivery_state != "enabled":
            return
        soonest = self._batch_retry_at()
        if soonest and soonest <= fields.Datetime.now() + timedelta(seconds=SHORT_RETRY):
            self.with_delay(
                channel=self._delivery_channel(),
                eta=soonest,
                description=f"Retry a batch of {self.name}",
            ).deliver_batch()

    @api.model
    def _delivered_transports(self):
        """Transports whose messages this addon's delivery jobs send (an addon adding a
        transport adds it here and implements ``_deliver_<transport>(messages, secrets)``)."""
        return ["http", "amqp"]

    def _signs_messages(self):
        """Whether this subscription's messages are signed (Standard Webhooks): a transport
        without signatures (files) sends without a signing secret."""
        return True

    def _signing_secrets(self):
        """The secrets to sign with. Nothing leaves unsigned: without one, messages wait and
        managers are told."""
        secrets = self.signing_key_ids._secrets()
        if not secrets:
            self._notify_managers(
                _("Subscription without signing secret"),
                _("Messages of %s wait: press Generate secret on the subscription.", self.name),
            )
        return secrets

    def _breaker_success(self):
        if self.consecutive_failures or self.delivery_state == "tripped":
            self.write(
                {"consecutive_failures": 0, "delivery_state": "enabled", "tripped_until": False}
            )

    def _breaker_failure(self):
        """Count a failure; return True when the breaker trips (stop sending)."""
        failures = self.consecutive_failures + 1
        values = {"consecutive_failures": failures}
        tripped = failures >= self.breaker_threshold or self.delivery_state == "tripped"
        if tripped:
            values.update(
                delivery_state="tripped",
                tripped_until=fields.Datetime.now() + timedelta(seconds=self.breaker_cooldown),
            )
            _logger.info("Subscription %s tripped after %s failures", self.name, failures)
        self.write(values)
        return tripped

    def _gone(self):
        self.write({"delivery_state": "disabled"})
        self._notify_managers(
            _("Subscription disabled"),
            _(
                "%s answered 410 Gone: the partner asked to stop. Fix the endpoint, then "
                "enable it and replay.",
                self.url,
            ),
        )

    def _notify_managers(self, summary, note):
        managers = self.env.ref("logistics_sync_core.group_logistics_sync_manager").users
        activity_type = self.env.ref("mail.mail_activity_data_warning")
        for flow in self:
            open_activities = flow.activity_ids.filtered(lambda a: a.summary == summary)
            for user in managers.filtered(lambda u: u.share is False) - open_activities.user_id:
                flow.activity_schedule(
                    activity_type_id=activity_type.id, summary=summary, note=note, user_id=user.id
                )

    def action_enable(self):
        self.write({"delivery_state": "enabled", "consecutive_failures": 0, "tripped_until": False})
        self._schedule_delivery()

    def action_pause(self):
        self.write({"delivery_state": "paused"})

    def action_disable(self):
        self.write({"delivery_state": "disabled"})

    def action_view_dead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Dead-lettered messages"),
            "res_model": "logistics.sync.message",
            "view_mode": "list,form",
            "domain": [("flow_id", "=", self.id), ("state", "=", "dead")],
        }

    # ---------------------------------------------------------------- transports
    def _refuse_oversized(self, body, messages):
        """Dead-letter ``messages`` when ``body`` is over the size cap; return whether."""
        if len(body) <= self.max_payload_bytes:
            return False
        messages._refuse(
            _(
                "Payload of %(size)s bytes exceeds this subscription's cap of %(cap)s bytes: "
                "send a link to the data instead (or lower the batch size).",
                size=len(body),
                cap=self.max_payload_bytes,
            )
        )
        return True

    def _http_headers(self):
        headers = {"Content-Type": "application/json", "User-Agent": "Odoo-Logistics-Sync/1"}
        for line in (self.custom_headers or "").splitlines():
            name, _sep, value = line.partition(":")
            if name.strip() and value.strip():
                headers[name.strip()] = value.strip()
        return headers

    def _http_session(self):
        return self.env["logistics.sync.system"]._http_session()

    def _deliver_http(self, messages, secrets):
        """POST each message over one kept-alive session; return how many were delivered."""
        base_headers = self._http_headers()
        session = self._http_session()
        delivered, results = 0, []
        interval = 1.0 / self.rate_limit if self.rate_limit > 0 else 0
        try:
            # at most one message per aggregate (_ready_messages): a failure holds back no
            # other message of this run
            for message in messages:
                if interval and delivered:
                    time.sleep(interval)
                body = message._body()
                if self._refuse_oversized(body, message):
                    continue
                headers = dict(base_headers)
                headers.update(signing.headers(message.uid, int(time.time()), body, secrets))
                outcome = self._post(session, message, body, headers, results)
                if outcome == delivery.DELIVERED:
                    delivered += 1
                    self._breaker_success()
                    continue
                if outcome == delivery.GONE:
                    self._gone()
                    break
                if self._breaker_failure():
                    break
        finally:
            session.close()
            # one statement for all the delivered ones: per-message writes cost more than
            # the POST itself
            self.env["logistics.sync.message"]._record_attempts(results)
        return delivered

    def _post(self, session, messages, body, headers, results=None):
        """Send one request for ``messages`` (one, or a batch); log the attempt on each,
        or append it to ``results`` for :meth:`_record_attempts` when given."""

        def record(**values):
            if results is None:
                messages._record_attempt(**values)
            else:
                results.extend(dict(values, message=message) for message in messages)

        started = time.monotonic()
        try:
            # the session checks the URL and the address it connects to
            response = http_client.post(session, self.url, body, headers, timeout=self.timeout)
        except http_client.DestinationNotAllowed as refused:
            messages._refuse(_("Address refused by the SSRF guard: %s", refused))
            return "refused"
        except Exception as exc:  # noqa: BLE001 - timeouts, resets, TLS: all retried
            error = f"{type(exc).__name__}: {exc}"
            record(
                status_code=0,
                duration=time.monotonic() - started,
                error=error,
                outcome=delivery.RETRY,
            )
            return delivery.RETRY
        outcome = delivery.classify(response.status_code)
        retry_after = None
        if response.status_code in delivery.SLOW_DOWN:
            retry_after = delivery.parse_retry_after(response.headers.get("Retry-After"))
        record(
            status_code=response.status_code,
            duration=time.monotonic() - started,
            excerpt=response.text,
            outcome=outcome,
            retry_after=retry_after,
        )
        return outcome

    def deliver_batch(self):
        """Job: send the ready messages of a batch flow in one request carrying an array."""
        self.ensure_one()
        self._lock()
        if self.delivery_state != "enabled" or self.system_id.state != "active":
            return "not sent"
        messages = self._ready_messages(limit=self.batch_size or BATCH_PER_JOB, batched=True)
        self.last_batch_at = fields.Datetime.now()
        if not messages:
            return "nothing to send"
        secrets = self._signing_secrets()
        if not secrets:
            return "not sent: no signing secret"
        batch_id = f"batch_{uuid.uuid4().hex}"
        body = delivery.canonical_bytes([message._envelope() for message in messages])
        if self._refuse_oversized(body, messages):
            return "refused"
        if self.transport == "amqp":
            delivered = self._deliver_amqp(messages, secrets, batch=(batch_id, body))
            self._schedule_batch_retry()
            return delivered
        headers = self._http_headers()
        headers.update(signing.headers(batch_id, int(time.time()), body, secrets))
        session = self._http_session()
        try:
            outcome = self._post(session, messages, body, headers)
        finally:
            session.close()
        if outcome == delivery.DELIVERED:
            self._breaker_success()
        elif outcome == delivery.GONE:
            self._gone()
        elif outcome == delivery.RETRY:
            self._breaker_failure()
        self._schedule_batch_retry()
        return f"batch {batch_id}: {outcome}"

    def _deliver_amqp(self, messages, secrets, batch=None):
        """Publish to RabbitMQ with publisher confirms; persistent, message id = webhook-id."""
        password = self.system_id._secret("amqp_password")
        started = time.monotonic()

        def failed(targets, exc):
            """Log the failure; return True when the breaker tripped."""
            targets._record_attempt(
                status_code=0,
                duration=time.monotonic() - started,
                error=str(exc),
                outcome=delivery.RETRY,
            )
            return self._breaker_failure()

        try:
            publisher = amqp.Publisher(
                self.amqp_url,
                password,
                timeout=self.timeout,
                allow_networks=self.system_id._guarded_networks(),
            )
        except http_client.DestinationNotAllowed as refused:
            messages._refuse(_("Address refused by the SSRF guard: %s", refused))
            return 0
        except amqp.PublishError as exc:
            failed(messages, exc)
            return 0
        delivered = 0
        try:
            items = (
                [(batch[0], batch[1], messages)]
                if batch
                else [(message.uid, message._body(), message) for message in messages]
            )
            for message_id, body, targets in items:
                if self._refuse_oversized(body, targets):
                    continue
                started = time.monotonic()
                routing_key = self.amqp_routing_key or targets[:1].type_code
                try:
                    publisher.publish(
                        self.amqp_exchange,
                        routing_key,
                        message_id,
                        body,
                        signing.headers(message_id, int(time.time()), body, secrets),
                    )
                except amqp.PublishError as exc:
                    if failed(targets, exc):
                        break
                    continue
                targets._record_attempt(
                    status_code=0,
                    duration=time.monotonic() - started,
                    outcome=delivery.DELIVERED,
                    excerpt="confirmed by the broker",
                )
                delivered += len(targets)
                self._breaker_success()
        finally:
            publisher.close()
        return delivered
