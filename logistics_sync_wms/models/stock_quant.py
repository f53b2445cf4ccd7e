from odoo import models


class StockQuant(models.Model):
    _inherit = "stock.quant"

    def _get_inventory_move_values(
        self, qty, location_id, location_dest_id, package_id=False, package_dest_id=False
    ):
        values = super()._get_inventory_move_values(
            qty, location_id, location_dest_id, package_id, package_dest_id
        )
        context = self.env.context
        if context.get("logistics_sync_reconciliation_id"):
            # the reconciliation is the move's reference (its name), the system its source
            values["logistics_sync_reconciliation_id"] = context["logistics_sync_reconciliation_id"]
            values["origin"] = context.get("logistics_sync_inventory_origin")
        return values
