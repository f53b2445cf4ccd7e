from odoo import fields, models


class LogisticsSyncExceptionTeam(models.Model):
    """A group of people an assignment rule hands exceptions to; one of them takes it."""

    _name = "logistics.sync.exception.team"
    _description = "Logistics Sync Exception Team"
    _order = "name"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    member_ids = fields.Many2many("res.users", string="Members", domain=[("share", "=", False)])
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
