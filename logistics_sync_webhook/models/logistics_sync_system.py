import logging

from odoo import SUPERUSER_ID, api, fields, models, tools
from odoo.exceptions import ValidationError

from .. import amqp, http_client, inbound, signing

_logger = logging.getLogger(__name__)

# postcommit data key: ids of the systems whose drain to check once the transaction committed
_DRAIN_AFTER_COMMIT = "logistics_sync_webhook.inbound_drain"

#: Credentials (core encrypted secrets) checked by each scheme: the secret with this exact
#: name and every one named ``<name>_<suffix>`` (rotation: ``inbound_signing_2``, ...).
SECRET_SIGNING = "inbound_signing"
SECRET_API_KEY = "inbound_api_key"

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
# What accepting a message reads of its sender, cached per process (_inbound_intake_table);
# writing any of them clears the cache. Not the AMQP reader's bookkeeping, written at each run.
_INTAKE_FIELDS = (
    "code",
    "kind",
    "state",
    "active",
    "company_id",
    "inbound_auth",
    "inbound_tolerance",
    "inbound_timestamp_header",
    "inbound_timestamp_required",
    "inbound_hmac_sign_timestamp",
    "inbound_hmac_header",
    "inbound_hmac_algorithm",
    "inbound_hmac_encoding",
    "inbound_hmac_prefix",
    "inbound_api_key_header",
    "inbound_max_bytes",
    "inbound_rate_limit",
    "inbound_rate_window",
)


class LogisticsSyncSystem(models.Model):
    _inherit = "logistics.sync.system"

    inbound_auth = fields.Selection(
        [
            ("none", "Not accepted"),
            ("standard", "Standard Webhooks"),
            ("hmac", "HMAC signature header"),
            ("api_key", "API key header"),
        ],
        string="Inbound verification",
        default="none",
        required=True,
        help="How webhooks this system sends to Odoo are authenticated. Not accepted: every "
        "request is refused. Standard Webhooks: webhook-id/-timestamp/-signature headers, "
        "v1 (whsec_ secrets) and v1a (whpk_ public keys) in credentials named "
        "'inbound_signing', 'inbound_signing_2', ... HMAC: a digest of the raw body in one "
        "header, keyed with the 'inbound_signing*' credentials. API key: a header that "
        "must equal one of the 'inbound_api_key*' credentials.",
    )
    inbound_tolerance = fields.Integer(
        string="Timestamp tolerance (s)",
        default=signing.DEFAULT_TOLERANCE,
        help="Largest accepted distance between the request's timestamp and now, in seconds "
        "(5 minutes by default): webhook-timestamp for Standard Webhooks, the timestamp "
        "header for the HMAC and API key schemes.",
    )
    inbound_timestamp_header = fields.Char(
        string="Timestamp header",
        default=signing.HEADER_TIMESTAMP,
        help="HMAC and API key schemes: the header carrying the Unix time (seconds) the "
        "partner sent the request. When sent, it must lie within the timestamp tolerance, "
        "so an old request replayed is refused (401).",
    )
    inbound_timestamp_required = fields.Boolean(
        string="Timestamp required",
        help="HMAC and API key schemes: refuse requests without the timestamp header.",
    )
    inbound_hmac_sign_timestamp = fields.Boolean(
        string="Timestamp signed",
        help="HMAC scheme: the digest covers '<timestamp>.<raw body>' (as Stripe and Standard "
        "Webhooks sign), so a replayed request cannot carry a new timestamp. The timestamp "
        "header is then required.",
    )
    inbound_hmac_header = fields.Char(
        string="Signature header",
        default="X-Signature",
        help="HMAC scheme: the header that carries the digest of the raw body.",
    )
    inbound_hmac_algorithm = fields.Selection(
        [("sha256", "SHA-256"), ("sha512", "SHA-512")],
        string="HMAC algorithm",
        default="sha256",
        required=True,
    )
    inbound_hmac_encoding = fields.Selection(
        [("hex", "Hexadecimal"), ("base64", "Base64")],
        string="Digest encoding",
        default="hex",
        required=True,
    )
    inbound_hmac_prefix = fields.Char(
        string="Digest prefix",
        help="HMAC scheme: text before the digest in the header, e.g. 'sha256=' (GitHub).",
    )
    inbound_api_key_header = fields.Char(
        string="API key header",
        default="X-Api-Key",
        help="API key scheme: the header that carries the key. Its value is never stored.",
    )
    inbound_max_bytes = fields.Integer(
        string="Largest body (bytes)",
        default=inbound.DEFAULT_MAX_BYTES,
        help="Larger requests are refused with 413 before they are read.",
    )
    inbound_rate_limit = fields.Integer(
        string="Rate limit (requests)",
        help="Requests accepted per window (counted across all Odoo workers); more get 429 "
        "with Retry-After. 0: no limit.",
    )
    inbound_rate_window = fields.Integer(
        string="Rate window (s)", default=60, help="Length of the rate limit window."
    )
    inbound_confirm_orders = fields.Boolean(
        string="Confirm inbound orders",
        default=True,
        help="Marketplaces: confirm the sale orders created from their order.created "
        "webhooks (which sends order.confirmed to the warehouse flows).",
    )
    inbound_url = fields.Char(
        string="Inbound webhook URL",
        compute="_compute_inbound_url",
        help="Give this address to the partner.",
    )
    inbound_message_ids = fields.One2many("logistics.sync.inbound.message", "system_id")

    @api.constrains("inbound_max_bytes", "inbound_tolerance", "inbound_rate_limit")
    def _check_inbound_settings(self):
        for system in self:
            if not 0 < system.inbound_max_bytes <= inbound.HARD_MAX_BYTES:
                raise ValidationError(
                    self.env._(
                        "The largest inbound body must be between 1 and %s bytes.",
                        inbound.HARD_MAX_BYTES,
                    )
                )
            if system.inbound_tolerance <= 0 or system.inbound_rate_limit < 0:
                raise ValidationError(
                    self.env._(
                        "The timestamp tolerance must be positive, the rate limit not negative."
                    )
                )

    def _compute_inbound_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for system in self:
            system.inbound_url = (
                f"{base.rstrip('/')}/logistics_sync/webhook/{system.code}" if system.code else ""
            )

    def _guarded_networks(self):
        params = self.env["ir.config_parameter"].sudo()
        allowed = params.get_param("logistics_sync_webhook.allowed_networks", "")
        return [net.strip() for net in allowed.split(",") if net.strip()]

    @api.model
    def _guarded_socket(self, host, port, timeout):
        """A TCP socket to ``host``:``port`` for a non-HTTP partner protocol (SFTP...),
        through the same SSRF guard and allowed networks as :meth:`_http_session`.

        :raises http_client.AddressNotAllowed: the address is refused (do not retry).
        :raises OSError: the connection failed (worth a retry).
        """
        return http_client.guarded_connect(host, port, timeout, self._guarded_networks())

    @api.model
    def _http_session(self):
        """A ``requests`` session for any outbound call to a partner (webhooks, carrier
        APIs...): every connection goes through the SSRF guard, with the administrator's
        settings (System Parameters ``logistics_sync_webhook.allowed_networks``, a
        comma-separated list of CIDRs allowed although not public, and
        ``logistics_sync_webhook.https_only``). Pass a timeout to every call."""
        params = self.env["ir.config_parameter"].sudo()
        https_only = params.get_param("logistics_sync_webhook.https_only", "False") == "True"
        return http_client.make_session(
            allow_networks=self._guarded_networks(), https_only=https_only
        )

    @api.model
    def _inbound_by_code(self, code):
        """The active system ``code`` (empty recordset if none), with what accepting a message
        reads of it (its inbound settings, kind, state and company) already in the
        environment's cache: every inbound request looks its sender up, and reading the row
        each time cost more than the rest of the lookup."""
        found = self._inbound_intake_table().get(code)
        if not found:
            return self.browse()
        system_id, values = found
        system = self.browse(system_id)
        for name, value in values:
            self.env.cache.update(system, self._fields[name], [value])
        return system

    @api.model
    @tools.ormcache()
    def _inbound_intake_table(self):
        """{code: (id, ((field, value), ...))} of the active systems, cached in the process
        like the credentials: one entry for all (a request naming an unknown code adds none)
        and a change to one of those fields clears it, in the other workers once committed."""
        systems = self.sudo().with_context(active_test=True).search_fetch([], _INTAKE_FIELDS)
        return {
            system.code: (
                system.id,
                tuple(
                    (name, self.env.cache.get(system, self._fields[name]))
                    for name in _INTAKE_FIELDS
                ),
            )
            for system in systems
        }

    def _clear_intake_cache(self):
        # as for the event types and credentials (their mixin clears at each change; here
        # only when a field the intake reads changes: the AMQP reader writes at each run)
        self.env["logistics.sync.cache.mixin"]._clear_lookup_cache()

    @api.model_create_multi
    def create(self, vals_list):
        self._clear_intake_cache()
        return super().create(vals_list)

    def write(self, vals):
        if not vals.keys().isdisjoint(_INTAKE_FIELDS):
            self._clear_intake_cache()
        return super().write(vals)

    def unlink(self):
        self._clear_intake_cache()
        return super().unlink()

    def _inbound_credentials(self, name):
        """Plaintexts of the credentials ``name`` and ``name_*`` (rotation), server side.

        Cached in the process (every inbound request needs them); any change to a
        credential clears the cache."""
        self.ensure_one()
        return list(self._inbound_credentials_cached(name))

    @tools.ormcache("self.id", "name")
    def _inbound_credentials_cached(self, name):
        secrets = (
            self.env["logistics.sync.secret"]
            .sudo()
            .search(
                [
                    ("system_id", "=", self.id),
                    "|",
                    ("name", "=", name),
                    ("name", "=like", name + "\\_%"),
                ]
            )
        )
        return tuple(value for value in (s._get_plaintext() for s in secrets) if value)

    def _inbound_authenticate(self, headers, body):
        """Check a request against this system's scheme; return the message id it names
        (``webhook-id`` header), or ``None`` when the scheme does not carry one.

        :raises InboundError: 401, the same answer whatever the cause.
        """
        self.ensure_one()
        method = getattr(self, f"_inbound_authenticate_{self.inbound_auth}", None)
        if method is None:
            raise inbound.unauthorized()
        return method(headers, body)

    def _inbound_authenticate_standard(self, headers, body):
        secrets = self._inbound_credentials(SECRET_SIGNING)
        if not secrets:
            _logger.warning("Inbound webhook refused: %s has no inbound_signing key", self.code)
            raise inbound.unauthorized()
        try:
            return signing.verify(headers, body, secrets, tolerance=self.inbound_tolerance)
        except signing.SignatureError as exc:
            _logger.info("Inbound webhook from %s refused: %s", self.code, exc.reason)
            raise inbound.unauthorized()
        except (ValueError, TypeError) as exc:
            # a stored key that cannot verify: the administrator's mistake, not the sender's
            _logger.warning("Inbound webhook refused: %s has an unusable key: %s", self.code, exc)
            raise inbound.unauthorized()

    def _inbound_check_timestamp(self, headers, required=False):
        """The timestamp header's value (``""`` when absent and not required); 401 when it
        is missing but required, malformed, or outside the tolerance."""
        name = self.inbound_timestamp_header or signing.HEADER_TIMESTAMP
        value = inbound.header(headers, name)
        if not value and not (required or self.inbound_timestamp_required):
            return ""
        try:
            signing.check_timestamp(value, self.inbound_tolerance, header=name)
        except signing.SignatureError as exc:
            _logger.info("Inbound webhook from %s refused: %s", self.code, exc.reason)
            raise inbound.unauthorized() from None
        return value

    def _inbound_authenticate_hmac(self, headers, body):
        timestamp = self._inbound_check_timestamp(headers, self.inbound_hmac_sign_timestamp)
        inbound.verify_hmac_header(
            headers,
            f"{timestamp}.".encode() + body if self.inbound_hmac_sign_timestamp else body,
            self._inbound_credentials(SECRET_SIGNING),
            self.inbound_hmac_header or "X-Signature",
            self.inbound_hmac_algorithm,
            self.inbound_hmac_encoding,
            self.inbound_hmac_prefix or "",
        )
        return inbound.header(headers, signing.HEADER_ID) or None

    def _inbound_authenticate_api_key(self, headers, body):
        self._inbound_check_timestamp(headers)
        inbound.verify_api_key(
            headers,
            self._inbound_credentials(SECRET_API_KEY),
            self.inbound_api_key_header or "X-Api-Key",
        )
        return inbound.header(headers, signing.HEADER_ID) or None

    def _inbound_check_rate(self):
        """Count one request; :class:`InboundError` 429 with Retry-After when over the limit."""
        self.ensure_one()
        self.env["logistics.sync.rate.counter"]._check(
            f"inbound:{self.id}", self.inbound_rate_limit, self.inbound_rate_window
        )

    def _inbound_enqueue_drain_after_commit(self):
        """Make sure, once the current transaction has committed, that a drain job will
        apply the messages it stored for these systems (what a request that stored a message
        calls).

        Checked after the commit, not before: a drain job then still pending (or enqueued,
        not started) begins after the messages are committed and sees them. A check before
        the commit could find a job that then finishes its last look without them, leaving
        them to the minute cron. One check per transaction and system, in a transaction of
        its own; a failure there is logged and left to the cron, the request keeps its
        answer.
        """
        postcommit = self.env.cr.postcommit
        system_ids = postcommit.data.setdefault(_DRAIN_AFTER_COMMIT, set())
        if not system_ids:
            registry = self.env.registry

            def enqueue():
                ids = sorted(postcommit.data.pop(_DRAIN_AFTER_COMMIT, ()))
                try:
                    with registry.cursor() as cr:
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        env["logistics.sync.system"].browse(ids)._inbound_enqueue_drain()
                except Exception as exc:  # noqa: BLE001 - committed messages are safe
                    _logger.warning(
                        "Could not start the inbound drain of systems %s after the commit "
                        "(the minute cron will): %s",
                        ids,
                        exc,
                    )

            postcommit.add(enqueue)
        system_ids.update(self.ids)

    def _inbound_enqueue_drain(self, eta=None):
        """Make sure a drain job will apply the received messages of these systems: one is
        created unless one is still pending (queue_job identity key), which will find them
        once this transaction committed (see :meth:`_inbound_enqueue_drain_after_commit`
        for messages stored by a request).

        The pending job is looked up first with queue_job's own criteria (its partial index
        on the identity key): under load nearly every request finds one, and building a
        queue_job Job only to learn that costs more than the rest of the intake. (The row is
        not locked: queue_job acquires a job with FOR NO KEY UPDATE SKIP LOCKED, so a lock
        held by requests would keep the job from ever starting under load.)
        """
        self.env["queue.job"].flush_model(["identity_key", "state"])
        for system in self:
            identity_key = f"logistics_sync_inbound_drain_{system.id}"
            self.env.cr.execute(
                """
                SELECT 1 FROM queue_job
                 WHERE identity_key = %s
                   AND state IN ('wait_dependencies', 'pending', 'enqueued')
                 LIMIT 1
                """,
                (identity_key,),
            )
            if self.env.cr.fetchone():
                continue
            system.with_delay(
                channel="root.logistics_sync.inbound",
                identity_key=identity_key,
                eta=eta,
                description=f"Apply inbound messages from {system.code}",
            ).inbound_drain()

    @api.private
    def inbound_drain(self):
        """Apply the messages received from this system in the order they were stored (job
        entry point; the jobs run with superuser rights, as the requests that store the
        messages)."""
        self.ensure_one()
        return self.env["logistics.sync.inbound.message"]._drain(self)

    # ------------------------------------------------------------ inbound from RabbitMQ

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
            consumer = amqp.Consumer(
                self.inbound_amqp_url,
                password,
                timeout=CONSUME_TIMEOUT,
                allow_networks=self._guarded_networks(),
            )
        except http_client.DestinationNotAllowed as refused:
            return self._inbound_amqp_done(f"broker refused by the SSRF guard: {refused}")
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
