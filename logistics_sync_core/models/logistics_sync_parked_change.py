from odoo import fields, models


class LogisticsSyncParkedChange(models.Model):
    """A change from a system that does not own the data, kept for a person to decide."""

    _name = "logistics.sync.parked.change"
    _description = "Logistics Sync Parked Change"
    _inherit = ["mail.thread"]
    _order = "id desc"

    system_id = fields.Many2one("logistics.sync.system", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    rule_id = fields.Many2one("logistics.sync.ownership.rule", ondelete="set null")
    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", readonly=True)
    values = fields.Json(readonly=True, help="The field values the system asked to write.")
    status_from = fields.Char(readonly=True)
    status_to = fields.Char(readonly=True)
    reason = fields.Char(readonly=True)
    state = fields.Selection(
        [("pending", "To review"), ("applied", "Applied"), ("discarded", "Discarded")],
        default="pending",
        required=True,
        tracking=True,
    )

    def action_apply(self):
        """Apply the parked values on behalf of their system (managers decide to override)."""
        for change in self.filtered(lambda c: c.state == "pending"):
            record = self.env[change.res_model].browse(change.res_id).exists()
            if record and change.values:
                # the system's change, applied as the sync pipeline applies inbound changes
                record.sudo().with_context(
                    logistics_sync_origin_system_id=change.system_id.id
                ).write(change.values)
            change.state = "applied"

    def action_discard(self):
        self.filtered(lambda c: c.state == "pending").write({"state": "discarded"})
