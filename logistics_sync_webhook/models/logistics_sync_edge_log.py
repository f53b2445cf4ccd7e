from odoo import api, fields, models

from .. import retention

#: Days a row is kept (system parameter ``logistics_sync_webhook.edge_log_retention_days``).
RETENTION_DAYS = 30


class LogisticsSyncEdgeLog(models.Model):
    """What the edge absorbed or refused without storing a new message: an inbound webhook
    refused with a 4xx, an inbound copy of a message already received, an outbound routing
    of an event to a flow that already had its message. Accepted inbound messages and sent
    messages have rows of their own; these did not, so they could not be counted.

    Rows are only ever inserted (no request waits for another), and purged after a while.
    """

    _name = "logistics.sync.edge.log"
    _description = "Logistics Sync Absorbed Duplicate or Refusal"
    _order = "id desc"
    _log_access = False

    create_date = fields.Datetime(string="At", readonly=True, index=True)
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")], required=True, readonly=True
    )
    outcome = fields.Selection(
        [("duplicate", "Duplicate absorbed"), ("refused", "Refused")],
        required=True,
        readonly=True,
    )
    system_id = fields.Many2one(
        "logistics.sync.system",
        readonly=True,
        ondelete="cascade",
        help="Empty for a request naming no known system.",
    )
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    status = fields.Integer(readonly=True, help="HTTP status answered (inbound).")
    error = fields.Char(readonly=True, help="Error code answered (inbound refusals).")

    @api.model
    def _log(self, direction, outcome, system=None, status=None, error=None):
        """Insert one row; cheap enough for every refused request."""
        self.env.cr.execute(
            """
            INSERT INTO logistics_sync_edge_log
                (create_date, direction, outcome, system_id, company_id, status, error)
            VALUES (now() at time zone 'UTC', %s, %s, %s, %s, %s, %s)
            """,
            (
                direction,
                outcome,
                system.id if system else None,
                (system.company_id.id if system else None) or None,
                status,
                (error or "")[:64] or None,
            ),
        )

    @api.model
    def _cron_purge(self, batch=retention.PURGE_BATCH):
        """Delete rows older than ``logistics_sync_webhook.edge_log_retention_days``."""
        return retention.purge(
            self, "logistics_sync_webhook.edge_log_retention_days", RETENTION_DAYS, batch=batch
        )
