from odoo import api, fields, models


class LogisticsSyncConsoleLog(models.Model):
    """Who requeued or replayed what, when, and how much: every action of the requeue and
    replay console leaves a line."""

    _name = "logistics.sync.console.log"
    _description = "Logistics Sync Console Action"
    _order = "id desc"
    _rec_name = "action"

    create_date = fields.Datetime(string="When", readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Who", readonly=True, default=lambda s: s.env.user
    )
    action = fields.Selection(
        [("requeue", "Requeue jobs"), ("replay", "Replay messages")], required=True, readonly=True
    )
    count = fields.Integer(readonly=True)
    res_model = fields.Char(string="Model", readonly=True)
    res_ids = fields.Json(string="Record IDs", readonly=True)
    detail = fields.Text(readonly=True)

    @api.model
    def _log(self, action, records, detail=None):
        lines = [f"{record.display_name}" for record in records[:50]]
        if len(records) > 50:
            lines.append(f"... and {len(records) - 50} more")
        return self.sudo().create(
            {
                "user_id": self.env.uid,
                "action": action,
                "count": len(records),
                "res_model": records._name,
                "res_ids": records.ids,
                "detail": "\n".join(filter(None, [detail, *lines])),
            }
        )
