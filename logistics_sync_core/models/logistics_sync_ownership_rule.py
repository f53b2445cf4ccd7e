from odoo import _, api, fields, models

from ..exceptions import OwnershipError


class LogisticsSyncOwnershipRule(models.Model):
    """Which system is the system of record for an object type, a set of fields or a status
    transition. A change that comes from another system is rejected or parked for review.

    A rule with no owner system means Odoo itself owns the data: every external system is then
    a non-owner.
    """

    _name = "logistics.sync.ownership.rule"
    _description = "Logistics Sync Ownership Rule"
    _order = "model_id, sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    model_id = fields.Many2one("ir.model", string="Object type", required=True, ondelete="cascade")
    res_model = fields.Char(related="model_id.model", store=True, index=True)
    scope = fields.Selection(
        [
            ("object", "Whole object"),
            ("fields", "Field set"),
            ("transition", "Status transition"),
        ],
        required=True,
        default="object",
        help="Whole object: any change. Field set: a change touching one of the fields. "
        "Status transition: a change of canonical status from / to the given values.",
    )
    field_names = fields.Char(
        help="Comma-separated technical field names, for the 'Field set' scope."
    )
    status_from = fields.Char(help="Canonical status before the change; empty means any.")
    status_to = fields.Char(help="Canonical status after the change; empty means any.")
    owner_system_id = fields.Many2one(
        "logistics.sync.system",
        string="System of record",
        ondelete="cascade",
        help="Only this system may make the change. Empty: Odoo owns it and no external "
        "system may change it.",
    )
    on_violation = fields.Selection(
        [("reject", "Reject"), ("park", "Park for review")],
        required=True,
        default="reject",
        help="Reject: the change fails with an error. Park: the change is kept as a parked "
        "change that a manager applies or discards.",
    )

    def _field_set(self):
        return {name.strip() for name in (self.field_names or "").split(",") if name.strip()}

    def _applies(self, values, transition):
        self.ensure_one()
        if self.scope == "object":
            return True
        if self.scope == "fields":
            return bool(self._field_set() & set(values or ()))
        if not transition:
            return False
        old, new = transition
        return (not self.status_from or self.status_from == old) and (
            not self.status_to or self.status_to == new
        )

    @api.model
    def _check_change(self, system, record, values=None, transition=None):
        """Decide whether ``system`` may apply a change to ``record``.

        ``values`` are the fields being written, ``transition`` an optional
        ``(old_status, new_status)`` pair of canonical statuses. Return ``True`` when the
        change may be applied, ``False`` when it was parked (the caller must then not apply
        it). Raise :class:`OwnershipError` when a rule rejects it. A change made in Odoo
        itself (no system) is always allowed.
        """
        if not system:
            return True
        rules = self.search(
            [
                ("res_model", "=", record._name),
                "|",
                ("company_id", "=", False),
                ("company_id", "in", system.company_id.ids or self.env.company.ids),
            ]
        )
        for rule in rules:
            if rule.owner_system_id == system or not rule._applies(values, transition):
                continue
            owner = rule.owner_system_id.name or "Odoo"
            if rule.on_violation == "reject":
                raise OwnershipError(
                    _(
                        "%(system)s may not change %(record)s: %(owner)s is the system of "
                        "record (rule '%(rule)s').",
                        system=system.name,
                        record=record.display_name or record._name,
                        owner=owner,
                        rule=rule.name,
                    )
                )
            self.env["logistics.sync.parked.change"].create(
                {
                    "system_id": system.id,
                    "rule_id": rule.id,
                    "res_model": record._name,
                    "res_id": record.id,
                    "values": values or {},
                    "status_from": transition and transition[0],
                    "status_to": transition and transition[1],
                    "reason": _(
                        "%(owner)s is the system of record (rule '%(rule)s').",
                        owner=owner,
                        rule=rule.name,
                    ),
                }
            )
            return False
        return True
