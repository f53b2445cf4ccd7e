from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class LogisticsSyncExceptionRule(models.Model):
    """Who gets a new exception: the first rule (by sequence) whose criteria all match
    assigns it to its user, or hands it to its team. Empty criteria match anything."""

    _name = "logistics.sync.exception.rule"
    _description = "Logistics Sync Exception Assignment Rule"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    kind = fields.Selection(selection="_selection_kind", help="Empty: any kind.")
    system_id = fields.Many2one("logistics.sync.system", ondelete="cascade", help="Empty: any.")
    warehouse_id = fields.Many2one("stock.warehouse", ondelete="cascade", help="Empty: any.")
    user_id = fields.Many2one("res.users", string="Assign to", domain=[("share", "=", False)])
    team_id = fields.Many2one("logistics.sync.exception.team", string="Or hand to team")
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)

    @api.model
    def _selection_kind(self):
        return self.env["logistics.sync.exception"]._selection_kind()

    @api.constrains("user_id", "team_id")
    def _check_target(self):
        for rule in self:
            if bool(rule.user_id) == bool(rule.team_id):
                raise ValidationError(
                    _("A rule assigns to a user or hands to a team (one of them).")
                )

    @api.depends("kind", "system_id", "warehouse_id", "user_id", "team_id")
    def _compute_display_name(self):
        kinds = dict(self._selection_kind())
        for rule in self:
            criteria = [
                kinds.get(rule.kind, ""),
                rule.system_id.name or "",
                rule.warehouse_id.name or "",
            ]
            what = ", ".join(c for c in criteria if c) or _("Any exception")
            rule.display_name = f"{what} → {(rule.user_id or rule.team_id).display_name or ''}"

    @api.model
    def _match(self, exception):
        """The first active rule matching ``exception`` (empty recordset if none)."""
        for rule in self.search([]):
            if rule.company_id and exception.company_id and rule.company_id != exception.company_id:
                continue
            if rule.kind and rule.kind != exception.kind:
                continue
            if rule.system_id and rule.system_id != exception.system_id:
                continue
            if rule.warehouse_id and rule.warehouse_id != exception.warehouse_id:
                continue
            return rule
        return self.browse()
