from odoo import api, fields, models

from .. import retention

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
    def _cron_purge(self, batch=retention.PURGE_BATCH):
        """Forget keys older than ``logistics_sync_webhook.api_idempotency_hours`` (48)."""
        return retention.purge(
            self,
            "logistics_sync_webhook.api_idempotency_hours",
            RETENTION_HOURS,
            unit="hours",
            batch=batch,
        )
