from odoo import api, fields, models

from .. import api as api_tools
from .. import inbound, retention

#: Hours an Idempotency-Key is remembered
#: (system parameter ``logistics_sync_webhook.api_idempotency_hours``).
RETENTION_HOURS = 48


class LogisticsSyncApiIdempotency(models.Model):
    """The first answer to a request sent with an ``Idempotency-Key``: the same key and body
    get it again, the same key with another body is refused. UNIQUE per API key."""

    _name = "logistics.sync.api.idempotency"
    _description = "Logistics Sync API Idempotency Record"
    _order = "id desc"
    _rec_name = "idempotency_key"

    key_id = fields.Many2one(
        "logistics.sync.api.key", string="API key", required=True, ondelete="cascade"
    )
    idempotency_key = fields.Char(required=True)
    request_hash = fields.Char(required=True, help="SHA-256 of the method, route and body.")
    status = fields.Integer(help="HTTP status of the first answer.")
    response = fields.Json(help="Body of the first answer.")

    _sql_constraints = [
        (
            "key_unique",
            "UNIQUE(key_id, idempotency_key)",
            "This Idempotency-Key was already used with this API key.",
        )
    ]

    @api.model
    def _serve(self, key, method, route, body, idempotency_key, handler):
        """Answer a request that carries an ``Idempotency-Key`` (the partner API controller
        does it for every POST): the first time, call ``handler()`` (which returns
        ``(status, body[, headers])``) and store its answer; a repeat with the same method,
        route and body (JSON compared by value) gets that answer again with
        ``Idempotent-Replayed: true``; the same key with another request is refused (422
        ``idempotency_key_reused``), and a repeat while the first has not committed yet
        gets 409 ``idempotency_in_progress``.

        Run it in a savepoint: a refusal (:class:`~..inbound.InboundError`) rolls the record
        back too, so the key can be used again with a corrected request.
        """
        if not inbound.ID_RE.fullmatch(idempotency_key or ""):
            raise api_tools.invalid(
                "The Idempotency-Key must be 1-200 printable characters.", path="Idempotency-Key"
            )
        fingerprint = api_tools.request_hash(method, route, body)
        self.env.cr.execute(
            """
            INSERT INTO logistics_sync_api_idempotency
                (key_id, idempotency_key, request_hash,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%s, %s, %s, %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')
            ON CONFLICT (key_id, idempotency_key) DO NOTHING
            RETURNING id
            """,
            (key.id, idempotency_key, fingerprint, self.env.uid, self.env.uid),
            # a concurrent first request that committed meanwhile is a serialization failure:
            # Odoo retries the request, which then replays the stored answer
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        if not row:
            first = self.search(
                [("key_id", "=", key.id), ("idempotency_key", "=", idempotency_key)], limit=1
            )
            if first.request_hash != fingerprint:
                raise inbound.InboundError(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used for a different request.",
                )
            if not first.status:
                raise inbound.InboundError(
                    409, "idempotency_in_progress", "The first request is still running."
                )
            return first.status, first.response, {"Idempotent-Replayed": "true"}
        status, answer, *extra = handler()
        self.browse(row[0]).write({"status": status, "response": answer})
        return status, answer, *extra

    @api.model
    def _cron_purge(self, batch=retention.PURGE_BATCH):
        """Forget keys older than ``logistics_sync_webhook.api_idempotency_hours`` (48)."""
        return retention.purge(
            self,
            "logistics_sync_webhook.api_idempotency_hours",
            RETENTION_HOURS,
            unit="hours",
            batch=batch,
        )
