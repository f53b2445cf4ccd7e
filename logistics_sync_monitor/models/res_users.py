from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    logistics_sync_warehouse_ids = fields.Many2many(
        "stock.warehouse",
        "logistics_sync_warehouse_user_rel",
        "user_id",
        "warehouse_id",
        string="Monitored warehouses",
        help="Logistics Sync: the warehouses whose exceptions this user sees and works on "
        "(with those of no warehouse). Managers see every exception.",
    )

    def write(self, vals):
        result = super().write(vals)
        if "logistics_sync_warehouse_ids" in vals:
            # the exceptions' record rules read these warehouses: their cached domains go
            self.env.registry.clear_cache()
        return result
