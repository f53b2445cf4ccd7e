from odoo import api, fields, models

from .. import retention

#: Days a call is logged (system parameter ``logistics_sync_webhook.api_call_retention_days``).
RETENTION_DAYS = 30


class LogisticsSyncApiCall(models.Model):
    """One call of the partner REST API: who, what, answer and time. No header, body or key
    is kept."""

    _name = "logistics.sync.api.call"
    _description = "Logistics Sync API Call"
    _order = "id desc"
    _rec_name = "route"

    system_id = fields.Many2one("logistics.sync.system", readonly=True, index=True)
    company_id = fields.Many2one(related="system_id.company_id", store=True, index=True)
    key_id = fields.Many2one("logistics.sync.api.key", string="API key", readonly=True)
    method = fields.Char(readonly=True)
    route = fields.Char(readonly=True, help="The route pattern called, without query string.")
    status = fields.Integer(readonly=True, index=True, help="HTTP status of the answer.")
    error = fields.Char(readonly=True, help="Error code of a refused call.")
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)

    @api.model
    def _cron_purge(self, batch=retention.PURGE_BATCH):
        """Delete calls older than ``logistics_sync_webhook.api_call_retention_days`` (30 by
        default; 0 keeps them)."""
        return retention.purge(
            self, "logistics_sync_webhook.api_call_retention_days", RETENTION_DAYS, batch=batch
        )
