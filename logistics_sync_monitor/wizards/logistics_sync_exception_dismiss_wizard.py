from odoo import fields, models


class LogisticsSyncExceptionDismissWizard(models.TransientModel):
    """Dismiss exceptions with the reason why they need nothing."""

    _name = "logistics.sync.exception.dismiss.wizard"
    _description = "Dismiss Logistics Sync Exceptions"

    exception_ids = fields.Many2many(
        "logistics.sync.exception",
        "logistics_sync_exception_dismiss_rel",
        "wizard_id",
        "exception_id",
        required=True,
    )
    reason = fields.Text(required=True, help="Why nothing needs to be done; kept in the chatter.")

    def action_dismiss(self):
        self.ensure_one()
        self.exception_ids._dismiss(self.reason)
        return {"type": "ir.actions.act_window_close"}
