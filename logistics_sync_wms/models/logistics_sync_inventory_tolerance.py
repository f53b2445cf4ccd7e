from odoo import api, fields, models
from odoo.exceptions import ValidationError


class LogisticsSyncInventoryTolerance(models.Model):
    """How far the WMS's count may differ from Odoo's before a person must look.

    A difference is *within tolerance* when it is at most the absolute tolerance, or at most
    the percent tolerance of Odoo's quantity. The rule of a product's category applies (the
    nearest parent category's otherwise), else the default rule (no category); a rule for one
    system comes before a rule for all. Without any rule, every difference needs review.
    """

    _name = "logistics.sync.inventory.tolerance"
    _description = "Logistics Sync Inventory Tolerance"
    _order = "categ_id, system_id, id"

    name = fields.Char(compute="_compute_name")
    categ_id = fields.Many2one(
        "product.category",
        string="Product Category",
        ondelete="cascade",
        help="Leave empty for the default rule, used for categories without their own.",
    )
    system_id = fields.Many2one(
        "logistics.sync.system",
        ondelete="cascade",
        domain=[("kind", "in", ("wms", "3pl"))],
        help="Leave empty to apply to every WMS and 3PL.",
    )
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    tolerance_qty = fields.Float(
        string="Absolute tolerance",
        digits="Product Unit of Measure",
        help="A difference of at most this many units (in the product's unit) is accepted.",
    )
    tolerance_percent = fields.Float(
        string="Percent tolerance",
        digits=(16, 2),
        help="A difference of at most this percentage of Odoo's quantity is accepted.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "tolerance_positive",
            "CHECK(tolerance_qty >= 0 AND tolerance_percent >= 0)",
            "Tolerances cannot be negative.",
        )
    ]

    @api.depends("categ_id", "system_id")
    def _compute_name(self):
        for rule in self:
            category = rule.categ_id.display_name or self.env._("Default")
            rule.name = f"{category} ({rule.system_id.name})" if rule.system_id else category

    @api.constrains("categ_id", "system_id", "company_id", "active")
    def _check_unique(self):
        for rule in self.filtered("active"):
            twins = self.search_count(
                [
                    ("id", "!=", rule.id),
                    ("categ_id", "=", rule.categ_id.id),
                    ("system_id", "=", rule.system_id.id),
                    ("company_id", "=", rule.company_id.id),
                ]
            )
            if twins:
                raise ValidationError(
                    self.env._("%s already has a tolerance rule.", rule.display_name)
                )
