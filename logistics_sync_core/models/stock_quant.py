from odoo import fields, models


class StockQuant(models.Model):
    _inherit = "stock.quant"

    def _apply_inventory(self):
        counted = [(quant, quant.quantity, quant.inventory_quantity) for quant in self]
        result = super()._apply_inventory()
        records = self.env["logistics.sync.record"]
        emissions = []
        for quant, before, after in counted:
            product = quant.product_id
            payload = {
                "product_id": records._canonical_id(product),
                "sku": product.default_code or None,
                "product": product.display_name,
                "location": quant.location_id.complete_name,
                "warehouse": quant.warehouse_id.code or None,
                "quantity_before": before,
                "quantity_after": after,
                "uom": product.uom_id.name,
                "date": fields.Datetime.to_string(fields.Datetime.now()),
            }
            # a product counted in several locations: consecutive sequences, in this order
            emissions.append((product, payload, quant.company_id))
        self.env["logistics.sync.event"]._emit_many("stock.adjusted", emissions)
        return result
