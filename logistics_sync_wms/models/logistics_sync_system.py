from odoo import fields, models

from .stock_warehouse import OWNED_LINE_FIELDS


class LogisticsSyncSystem(models.Model):
    _inherit = "logistics.sync.system"

    wms_warehouse_ids = fields.One2many(
        "stock.warehouse", "logistics_sync_system_id", string="Warehouses run"
    )

    def _logistics_sync_wms_ensure_ownership_rule(self):
        """Make each system the system of record for the pick and pack quantities of the
        transfers it runs (a core ownership rule on move lines), unless a rule exists already
        (also an archived one: a manager who archived it chose to let users edit them)."""
        Rule = self.env["logistics.sync.ownership.rule"].sudo().with_context(active_test=False)
        model = self.env["ir.model"]._get("stock.move.line")
        for system in self:
            if Rule.search_count(
                [("res_model", "=", "stock.move.line"), ("owner_system_id", "=", system.id)],
                limit=1,
            ):
                continue
            Rule.create(
                {
                    "name": self.env._("Pick and pack quantities: %s", system.name),
                    "model_id": model.id,
                    "scope": "fields",
                    "field_names": ",".join(OWNED_LINE_FIELDS),
                    "owner_system_id": system.id,
                    "on_violation": "reject",
                    "company_id": system.company_id.id,
                }
            )
