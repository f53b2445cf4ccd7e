from odoo import fields, models

EXCERPT_LIMIT = 1024


class LogisticsSyncMessageAttempt(models.Model):
    """One delivery attempt of a message: when, what came back, how long it took."""

    _name = "logistics.sync.message.attempt"
    _description = "Logistics Sync Delivery Attempt"
    _order = "id desc"

    message_id = fields.Many2one(
        "logistics.sync.message", required=True, ondelete="cascade", index=True
    )
    # precomputed: written with the row, not by an UPDATE after each delivery's INSERT
    company_id = fields.Many2one(related="message_id.company_id", store=True, precompute=True)
    attempted_at = fields.Datetime(required=True, default=fields.Datetime.now)
    status_code = fields.Integer(help="HTTP status; 0 when no answer came back.")
    duration_ms = fields.Integer(string="Duration (ms)")
    response_excerpt = fields.Text(help=f"First {EXCERPT_LIMIT} characters of the answer.")
    error = fields.Text()
    outcome = fields.Selection(
        [
            ("delivered", "Delivered"),
            ("retry", "Will retry"),
            ("gone", "Gone (410)"),
            ("dead", "Dead-lettered"),
            ("refused", "Refused before sending"),
        ],
        required=True,
    )
