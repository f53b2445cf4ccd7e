import hashlib
import json
import logging
import time
from datetime import datetime, timezone

import psycopg2

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.logistics_sync_core.exceptions import UnknownCodeError
from odoo.addons.logistics_sync_core.models.logistics_sync_event import (
    CONTEXT_CAUSATION,
    CONTEXT_CORRELATION,
    CONTEXT_ORIGIN,
)
from odoo.addons.queue_job.exception import RetryableJobError

from .. import api as api_tools
from .. import inbound, retention

_logger = logging.getLogger(__name__)


#: Messages, and seconds, one drain job applies at most before it hands the rest to a new
#: job (well under Odoo's worker time limits).
DRAIN_BATCH = 200
DRAIN_SECONDS = 30
#: Seconds before a message that met a concurrent change is tried again.
RETRY_SECONDS = 5

# PostgreSQL advisory lock class of the per-system drain ("LSIN"); the system id is the key.
_DRAIN_LOCK = 0x4C53494E

#: Days an applied message is kept (system parameter
#: ``logistics_sync_webhook.inbound_retention_days``).
RETENTION_DAYS = 90

# Canonical order status, for ownership rules on status transitions.
_ORDER_STATUS = {"draft": "draft", "sent": "draft", "sale": "confirmed", "cancel": "cancelled"}


class LogisticsSyncInboundMessage(models.Model):
    """One message received from an external system (a webhook, or a message taken from a
    RabbitMQ queue), stored exactly as it arrived.

    Stored (UNIQUE per system and message id) before the partner gets its answer, then applied
    through the handler registered for (system kind, event type) by the system's drain job:
    one queue_job job per system applies what waits, in arrival order, so accepting a message
    costs no job of its own (after its commit, the request only looks for a drain job still
    pending). A failure
    leaves the message in the *error* state with the reason, for a manager to retry; nothing
    accepted is lost.

    Other addons add handlers by extending :meth:`_get_inbound_handlers` and implementing the
    method it names; a handler gets the validated ``data`` of the envelope, runs with the
    sending system as origin of the events it causes, and returns ``(record, state)`` where
    state is ``"done"`` or ``"parked"``::

        def _get_inbound_handlers(self):
            handlers = super()._get_inbound_handlers()
            handlers[("carrier", "shipment.delivered")] = "_inbound_carrier_shipment_delivered"
            return handlers
    """

    _name = "logistics.sync.inbound.message"
    _description = "Logistics Sync Inbound Message"
    _order = "id desc"
    _rec_name = "message_id"

    system_id = fields.Many2one(
        "logistics.sync.system", required=True, readonly=True, ondelete="restrict"
    )
    company_id = fields.Many2one(related="system_id.company_id", store=True, index=True)
    message_id = fields.Char(
        string="Message ID",
        required=True,
        readonly=True,
        help="The sender's id of the message (webhook-id header, AMQP message_id property "
        "or the envelope's id): a second message with the same id from the same system is a "
        "duplicate. A message refused on arrival from a queue gets an id 'refused-...' of "
        "its own.",
    )
    transport = fields.Selection(
        [("webhook", "Webhook"), ("amqp", "RabbitMQ")],
        default="webhook",
        required=True,
        readonly=True,
        help="How it arrived: an inbound webhook, or a message taken from the system's "
        "RabbitMQ queue.",
    )
    refused = fields.Boolean(
        string="Refused on arrival",
        readonly=True,
        help="Taken from a queue but refused by the checks a webhook gets (not JSON, no id, "
        "unknown type, schema violation, too large): kept in error so that it is seen; it "
        "cannot be retried, the sender must send a corrected message.",
    )
    type_code = fields.Char(string="Type", readonly=True, index=True)
    event_type_id = fields.Many2one("logistics.sync.event.type", readonly=True, ondelete="restrict")
    correlation_id = fields.Char(readonly=True, index=True)
    headers = fields.Json(readonly=True, help="Request headers; credentials are redacted.")
    body = fields.Text(readonly=True, help="The raw body, exactly as received and verified.")
    state = fields.Selection(
        [
            ("received", "Received"),
            ("done", "Done"),
            ("error", "Error"),
            ("parked", "Parked"),
        ],
        default="received",
        required=True,
        readonly=True,
        index=True,
        help="Received: stored, waiting for its job. Done: applied. Error: could not be "
        "applied (see the reason); fix the cause, then Retry. Parked: the sender does not own "
        "the data; the change waits as a parked change for a manager.",
    )
    error = fields.Text(readonly=True)
    attempt_count = fields.Integer(string="Attempts", readonly=True)
    processed_at = fields.Datetime(readonly=True)
    res_model = fields.Char(string="Record model", readonly=True)
    res_id = fields.Many2oneReference(
        string="Record ID", model_field="res_model", readonly=True, help="The record changed."
    )

    _sql_constraints = [
        (
            "message_unique",
            "UNIQUE(system_id, message_id)",
            "This system already sent a message with this id.",
        )
    ]

    # ------------------------------------------------------------------ intake

    @api.model
    def _receive_body(self, system, headers, body, message_id=None, transport="webhook"):
        """The intake every transport shares, once the sender is authenticated: parse the
        raw ``body`` (bytes) as an envelope and store it; return ``(message, created)``.

        :raises InboundError: 400 / 422 for a body, an id or a payload that is refused.
        """
        envelope = inbound.parse_envelope(body)
        return self._receive(system, headers, body, envelope, message_id, transport=transport)

    @api.model
    def _receive(self, system, headers, body, envelope, message_id=None, transport="webhook"):
        """Validate a verified request and store it; return ``(message, created)``.

        ``created`` is False for a duplicate (same system and message id), which is stored
        once and processed once, also when copies arrive at the same time.

        :raises InboundError: 400 / 422 for an id or payload the catalog refuses.
        """
        message_id = message_id or envelope.get("id")
        if not message_id:
            raise inbound.InboundError(
                422,
                "schema_violation",
                "No message id: send a webhook-id header or an 'id' in the body.",
                path="$.id",
            )
        if not inbound.ID_RE.fullmatch(message_id):
            raise inbound.InboundError(
                400, "invalid_message_id", "The message id must be 1-200 printable characters."
            )
        event_type = self._intake_event_type(system, envelope)
        inbound.check_schema(event_type._schema_text(), envelope["data"], "$.data")
        secret_headers = [system.inbound_api_key_header] if system.inbound_auth == "api_key" else []
        self.env.cr.execute(
            """
            INSERT INTO logistics_sync_inbound_message
                (system_id, company_id, message_id, transport, type_code, event_type_id,
                 correlation_id, headers, body, state, attempt_count,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%(system)s, %(company)s, %(message_id)s, %(transport)s, %(type)s,
                    %(event_type)s, %(correlation)s, %(headers)s, %(body)s, 'received', 0,
                    %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC')
            ON CONFLICT (system_id, message_id) DO NOTHING
            RETURNING id
            """,
            {
                "system": system.id,
                "company": system.company_id.id or None,
                "message_id": message_id,
                "transport": transport,
                "type": envelope["type"],  # the type's code: it was found by it
                "event_type": event_type.id,
                "correlation": envelope.get("correlation_id") or message_id,
                "headers": json.dumps(inbound.redact_headers(headers, secret_headers)),
                "body": body.decode("utf-8"),
                "uid": self.env.uid,
            },
            # a concurrent duplicate that committed first is a serialization failure here:
            # Odoo retries the request, which then finds the row (expected, not an error)
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        if row:
            system._inbound_enqueue_drain_after_commit()
            message = self.browse(row[0])
            # the caller answers with the id: known, not read back
            self.env.cache.update(message, self._fields["message_id"], [message_id])
            return message, True
        existing = self.search(
            [("system_id", "=", system.id), ("message_id", "=", message_id)], limit=1
        )
        return existing, False

    @api.model
    def _intake_event_type(self, system, envelope):
        code = envelope["type"]
        try:
            event_type = self.env["logistics.sync.event.type"]._get(code, envelope.get("version"))
        except ValidationError:
            raise inbound.InboundError(
                422,
                "schema_violation",
                f"Unknown event type {code!r} (version {envelope.get('version') or 'latest'}).",
                path="$.type",
            )
        if not self._handler_name(system.kind, code):
            raise inbound.InboundError(
                422,
                "schema_violation",
                f"Odoo does not accept {code!r} from a {system.kind} system.",
                path="$.type",
            )
        return event_type

    @api.model
    def _receive_amqp(self, system, delivery, queue):
        """Store one message taken from ``queue`` (an ``amqp.Delivery``) through the same
        intake as a webhook; return ``(message, outcome)``, outcome ``"accepted"``,
        ``"duplicate"`` or ``"refused"``.

        The message id is the AMQP ``message_id`` property, else the envelope's ``id``. A
        message the intake refuses (not JSON, no id, unknown type, schema violation, too
        large) cannot be answered as a webhook would: it is stored as a message in error,
        with the reason, so that it is seen and not taken again and again.
        Concurrency errors are raised (nothing acknowledged, the broker delivers again).
        """
        headers = {
            **delivery.headers,
            "amqp-queue": queue,
            "amqp-exchange": delivery.exchange or "",
            "amqp-routing-key": delivery.routing_key or "",
            "amqp-message-id": delivery.message_id or "",
            "content-type": delivery.content_type or "",
        }
        try:
            with self.env.cr.savepoint():
                limit = system.inbound_max_bytes or inbound.DEFAULT_MAX_BYTES
                if len(delivery.body) > limit:
                    raise inbound.too_large(limit)
                if delivery.content_type:
                    inbound.check_content_type(delivery.content_type.split(";")[0].strip())
                message, created = self._receive_body(
                    system, headers, delivery.body, delivery.message_id, transport="amqp"
                )
        except inbound.InboundError as exc:
            refused = self._receive_refused(system, headers, delivery.body, exc, "amqp")
            return refused, "refused"
        if not created:
            self.env["logistics.sync.edge.log"]._log("inbound", "duplicate", system)
        return message, "accepted" if created else "duplicate"

    @api.model
    def _receive_refused(self, system, headers, body, error, transport):
        """Keep a message that arrived but was refused (:class:`InboundError` ``error``) as a
        message in error that cannot be retried: the sender must send a corrected one.

        Its id is made from the sender's id and the body, not the sender's id itself: a
        redelivery of the same bad message is a duplicate, a corrected message sent again
        under the refused one's id is not."""
        limit = system.inbound_max_bytes or inbound.DEFAULT_MAX_BYTES
        original_id = headers.get("amqp-message-id") or ""
        digest = hashlib.sha256(
            original_id.encode("utf-8", "surrogateescape") + b"\n" + body
        ).hexdigest()
        message_id = f"refused-{digest[:40]}"
        existing = self.search(
            [("system_id", "=", system.id), ("message_id", "=", message_id)], limit=1
        )
        if existing:
            return existing
        self.env["logistics.sync.edge.log"]._log("inbound", "refused", system, None, error.code)
        text = body[:limit].decode("utf-8", "replace").replace("\x00", "")
        if len(body) > limit:
            text += f"\n[... cut at {limit} bytes]"
        try:
            type_code = json.loads(text).get("type")
        except (ValueError, AttributeError, RecursionError):
            type_code = None
        return self.create(
            {
                "system_id": system.id,
                "message_id": message_id,
                "transport": transport,
                "type_code": type_code[:100] if isinstance(type_code, str) else False,
                "correlation_id": message_id,
                "headers": inbound.redact_headers(headers),
                "body": text,
                "state": "error",
                "refused": True,
                "error": _(
                    "Refused on arrival (%(code)s): %(reason)s Nothing was applied; this "
                    "message cannot be retried: the sender must send a corrected one.",
                    code=error.code,
                    reason=error.message,
                ),
                "processed_at": fields.Datetime.now(),
            }
        )

    @api.model
    def _drain(self, system, batch=DRAIN_BATCH, seconds=DRAIN_SECONDS):
        """Apply the received messages of ``system`` in the order they were stored, up to
        ``batch`` of them or ``seconds`` long; leave a new drain job for the rest.

        One drain per system at a time: a second drain job asks queue_job to try again
        shortly, as does one whose snapshot predates another drain's commit (it would see
        applied messages as waiting). A message that meets a concurrent change (serialization
        failure, deadlock) is put back as it was and the drain stops there: what it applied
        before commits, and a new drain tries again a few seconds later, in the same order.
        """
        cr = self.env.cr
        self.flush_model(["system_id", "state"])
        cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (_DRAIN_LOCK, system.id))
        if not cr.fetchone()[0]:
            raise RetryableJobError(
                "another job is applying this system's messages", seconds=1, ignore_retry=True
            )
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """
                    SELECT id FROM logistics_sync_inbound_message
                     WHERE system_id = %s AND state = 'received'
                     ORDER BY id
                     LIMIT %s
                       FOR NO KEY UPDATE
                    """,
                    (system.id, batch),
                    log_exceptions=False,
                )
                ids = [row[0] for row in cr.fetchall()]
        except psycopg2.errors.SerializationFailure:
            raise RetryableJobError(
                "another job applied this system's messages meanwhile",
                seconds=1,
                ignore_retry=True,
            ) from None
        deadline = time.monotonic() + seconds
        results, more = [], len(ids) == batch
        for index, message in enumerate(self.browse(ids)):
            if index and time.monotonic() > deadline:
                more = True
                break
            try:
                with cr.savepoint():
                    results.append(message._process_one())
            except inbound.RETRYABLE_ERRORS as exc:
                results.append(f"{message.message_id}: concurrent change, again shortly")
                _logger.info(
                    "Inbound message %s from %s met a concurrent change (%s); retried shortly",
                    message.message_id,
                    system.code,
                    type(exc).__name__,
                )
                system._inbound_enqueue_drain(eta=RETRY_SECONDS)
                more = False
                break
        if more:
            system._inbound_enqueue_drain()
        return "\n".join(results) or "Nothing to apply."

    @api.model
    def _cron_drain(self):
        """Start a drain job for every system whose messages wait for more than a minute
        (a worker stopped mid-job, a job that gave up on database errors); a drain job
        already pending is not duplicated."""
        self.env.cr.execute(
            """
            SELECT DISTINCT system_id FROM logistics_sync_inbound_message
             WHERE state = 'received'
               AND create_date < now() at time zone 'UTC' - interval '1 minute'
            """
        )
        systems = self.env["logistics.sync.system"].browse(r[0] for r in self.env.cr.fetchall())
        systems._inbound_enqueue_drain()
        return len(systems)

    # ------------------------------------------------------------------ processing

    @api.model
    def _get_inbound_handlers(self):
        """Return ``{(system kind, event type): method name}``; kind ``"*"`` matches any
        system. Method names follow ``_inbound_<kind>_<type with '_' for '.'>``. Extend with
        ``super()`` to add or replace a handler."""
        return {
            ("marketplace", "order.created"): "_inbound_marketplace_order_created",
            ("marketplace", "order.cancelled"): "_inbound_marketplace_order_cancelled",
            ("*", "shipment.status"): "_inbound_any_shipment_status",
        }

    @api.model
    def _handler_name(self, kind, type_code):
        handlers = self._get_inbound_handlers()
        return handlers.get((kind, type_code)) or handlers.get(("*", type_code))

    @api.private
    def process(self):
        """Apply the messages now. A message already applied or parked (or refused on
        arrival) is left alone, so running it twice has no second effect."""
        if not self:
            return ""
        # one run at a time per message: a concurrent one waits, then sees the new state
        self.env.cr.execute(
            "SELECT id FROM logistics_sync_inbound_message WHERE id IN %s FOR NO KEY UPDATE",
            (tuple(self.ids),),
        )
        self.invalidate_recordset()
        return "\n".join(
            f"{message.message_id}: refused on arrival, nothing to apply"
            if message.refused
            else message._process_one()
            if message.state in ("received", "error")
            else f"{message.message_id}: already {message.state}"
            for message in self
        )

    def _process_one(self):
        """Apply this message, which the caller has locked and found waiting or in error."""
        self.ensure_one()
        self.write({"attempt_count": self.attempt_count + 1})
        system = self.system_id
        handler = self._handler_name(system.kind, self.type_code)
        envelope = json.loads(self.body)
        message = self.with_company(system.company_id or self.env.company).with_context(
            **{
                CONTEXT_ORIGIN: system.id,
                CONTEXT_CORRELATION: self.correlation_id or self.message_id,
                CONTEXT_CAUSATION: self.message_id,
            }
        )
        try:
            if not handler:
                raise UserError(
                    _(
                        "No handler for %(type)s from a %(kind)s system.",
                        type=self.type_code,
                        kind=system.kind,
                    )
                )
            with self.env.cr.savepoint():
                record, state = getattr(message, handler)(envelope["data"])
                self.write(
                    {
                        "state": state,
                        "error": False,
                        "processed_at": fields.Datetime.now(),
                        "res_model": record._name if record else False,
                        "res_id": record.id if record else False,
                    }
                )
        except inbound.RETRYABLE_ERRORS:
            raise
        except UnknownCodeError as exc:
            # the savepoint's rollback took the quarantine entry with it: keep it
            for domain, code in getattr(exc, "logistics_sync_codes", ()):
                self.env["logistics.sync.code.quarantine"]._record(system, domain, code)
            return self._fail(exc)
        except Exception as exc:  # noqa: BLE001 - every failure must become a visible error
            return self._fail(exc)
        return f"{self.message_id}: {state}"

    def _fail(self, exc):
        if isinstance(exc, UserError):  # ValidationError included
            reason = exc.args[0] if exc.args else str(exc)
        else:
            reason = f"{type(exc).__name__}: {exc}"
            _logger.warning(
                "Inbound message %s from %s failed unexpectedly",
                self.message_id,
                self.system_id.code,
                exc_info=True,
            )
        self.write({"state": "error", "error": reason, "processed_at": fields.Datetime.now()})
        return f"{self.message_id}: error: {reason}"

    def action_retry(self):
        """Process the failed messages again (managers), e.g. after mapping a quarantined
        code or creating the missing product."""
        self.check_access("write")
        # nothing could ever apply a message refused on arrival
        retry = self.sudo().filtered(lambda m: m.state in ("error", "received") and not m.refused)
        retry.write({"state": "received", "error": False})
        retry.system_id._inbound_enqueue_drain_after_commit()
        return True

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }

    @api.model
    def _cron_purge(self, batch=retention.PURGE_BATCH):
        """Delete applied messages older than the retention period (system parameter
        ``logistics_sync_webhook.inbound_retention_days``, 90 by default, 0 keeps them).
        Messages in error, parked or waiting are kept whatever their age. A sender's retry
        of a purged id would be accepted again: keep them longer than partners retry."""
        return retention.purge(
            self,
            "logistics_sync_webhook.inbound_retention_days",
            RETENTION_DAYS,
            domain=[("state", "=", "done")],
            batch=batch,
        )

    # ------------------------------------------------------------------ handler helpers

    def _inbound_code(self, domain, external_code):
        """Canonical value of ``external_code``; an unknown code is quarantined."""
        try:
            return self.env["logistics.sync.code.map"]._to_canonical(
                self.system_id, domain, external_code
            )
        except UnknownCodeError as exc:
            exc.logistics_sync_codes = [(domain, external_code)]
            raise

    def _inbound_resolve(self, res_model, reference):
        """The ``res_model`` record the sender calls ``reference``: its own id
        (cross-reference) or the canonical id."""
        record = self.env["logistics.sync.xref"]._resolve_reference(
            self.system_id, res_model, reference
        )
        if not record:
            raise UserError(
                _(
                    "%(system)s refers to %(model)s '%(ref)s', which Odoo does not know.",
                    system=self.system_id.name,
                    model=self.env[res_model]._description,
                    ref=reference,
                )
            )
        return record

    def _inbound_partner(self, values):
        email = (values.get("email") or "").strip()
        Partner = self.env["res.partner"]
        if email:
            partner = Partner.search(
                [
                    ("email", "=ilike", email),
                    ("company_id", "in", [False, self.env.company.id]),
                ],
                limit=1,
            )
            if partner:
                return partner
        country = self.env["res.country"]
        if values.get("country"):
            country = country.search([("code", "=", values["country"].upper())], limit=1)
        return Partner.create(
            {
                "name": values["name"],
                "email": email or False,
                "phone": values.get("phone") or False,
                "street": values.get("street") or False,
                "city": values.get("city") or False,
                "zip": values.get("zip") or False,
                "country_id": country.id or False,
            }
        )

    def _inbound_order_line(self, line, index):
        sku = line.get("sku")
        product = self.env["product.product"]
        if sku:
            product = product.search(
                [
                    ("default_code", "=", sku),
                    ("company_id", "in", [False, self.env.company.id]),
                ],
                limit=1,
            )
        if not product:
            raise UserError(
                _("Unknown SKU '%(sku)s' at $.data.lines[%(index)s].", sku=sku, index=index)
            )
        if line["quantity"] <= 0:
            raise UserError(_("The quantity at $.data.lines[%s] must be positive.", index))
        error = api_tools.line_amount_error(line, index)
        if error:
            raise UserError(_("%(error)s (at $.data%(path)s)", error=error[0], path=error[1][1:]))
        values = {"product_id": product.id, "product_uom_qty": line["quantity"]}
        if line.get("uom"):
            uom_name = self._inbound_code("uom", line["uom"])
            uom = self.env["uom.uom"].search([("name", "=ilike", uom_name)], limit=1)
            if not uom or uom.category_id != product.uom_id.category_id:
                raise UserError(
                    _(
                        "Unit '%(uom)s' at $.data.lines[%(index)s] does not fit the product.",
                        uom=uom_name,
                        index=index,
                    )
                )
            values["product_uom"] = uom.id
        if line.get("price_unit") is not None:
            values["price_unit"] = line["price_unit"]
        return Command.create(values)

    # ------------------------------------------------------------------ handlers

    def _inbound_marketplace_order_created(self, data):
        """Create (and confirm) the sale order a marketplace took; its id is linked."""
        system = self.system_id
        Xref = self.env["logistics.sync.xref"]
        existing = Xref._resolve(system, "sale.order", data["external_id"])
        if existing:
            # the same order sent again under a new message id: still one order
            return existing, "done"
        lines = [self._inbound_order_line(line, i) for i, line in enumerate(data["lines"])]
        values = {
            "partner_id": self._inbound_partner(data["partner"]).id,
            "client_order_ref": data.get("client_order_ref") or data["external_id"],
            "origin": f"{system.name} {data['external_id']}",
            "order_line": lines,
        }
        if data.get("warehouse"):
            warehouse = self.env["stock.warehouse"].search(
                [("code", "=", data["warehouse"]), ("company_id", "=", self.env.company.id)],
                limit=1,
            )
            if not warehouse:
                raise UserError(_("Unknown warehouse '%s' at $.data.warehouse.", data["warehouse"]))
            values["warehouse_id"] = warehouse.id
        order = self.env["sale.order"].create(values)
        Xref._link(system, order, data["external_id"])
        if system.inbound_confirm_orders:
            order.action_confirm()
        return order, "done"

    def _inbound_marketplace_order_cancelled(self, data):
        """Cancel the order the marketplace names, if the ownership rules let it."""
        order = self._inbound_resolve("sale.order", data["order_id"])
        if order.state == "cancel":
            return order, "done"
        transition = (_ORDER_STATUS.get(order.state, order.state), "cancelled")
        allowed = self.env["logistics.sync.ownership.rule"]._check_change(
            self.system_id, order, {"state": "cancel"}, transition
        )
        if not allowed:
            return order, "parked"
        order.with_context(disable_cancel_warning=True).action_cancel()
        return order, "done"

    def _inbound_any_shipment_status(self, data):
        """Record the status a system reports for a transfer (code mapped to canonical)."""
        status = self._inbound_code("status", data["status"])
        picking = self._inbound_resolve("stock.picking", data["picking_id"])
        occurred_at = parse_datetime(data.get("occurred_at")) or fields.Datetime.now()
        known = picking.logistics_sync_status_date
        if known and occurred_at < known:
            # reports can arrive out of order: an older one must not undo a newer one
            picking.message_post(
                body=_(
                    "%(system)s reports status %(status)s as of %(when)s, older than the "
                    "status recorded; kept as history only.",
                    system=self.system_id.name,
                    status=status,
                    when=fields.Datetime.to_string(occurred_at),
                )
            )
            return picking, "done"
        values = {
            "logistics_sync_status": status,
            "logistics_sync_status_date": fields.Datetime.to_string(occurred_at),
            "logistics_sync_status_system_id": self.system_id.id,
        }
        transition = (picking.logistics_sync_status or None, status)
        allowed = self.env["logistics.sync.ownership.rule"]._check_change(
            self.system_id, picking, values, transition
        )
        if not allowed:
            return picking, "parked"
        picking.write(values)
        picking.message_post(
            body=_(
                "%(system)s reports status %(status)s (%(code)s)%(reason)s.",
                system=self.system_id.name,
                status=status,
                code=data["status"],
                reason=f": {data['reason']}" if data.get("reason") else "",
            )
        )
        return picking, "done"


def parse_datetime(value):
    """ISO 8601 text to a naive UTC datetime; ``None`` if empty; UserError if unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(_("'%s' is not an ISO 8601 date and time.", value))
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment
