from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def action_confirm(self):
        result = super().action_confirm()
        self.env["logistics.sync.event"]._emit_many(
            "order.confirmed",
            [
                (order, order._logistics_sync_payload())
                for order in self.filtered(lambda o: o.state == "sale")
            ],
        )
        return result

    def _action_cancel(self):
        was_open = self.filtered(lambda o: o.state != "cancel")
        result = super()._action_cancel()
        self.env["logistics.sync.event"]._emit_many(
            "order.cancelled",
            [
                (order, order._logistics_sync_payload(lines=False))
                for order in was_open.filtered(lambda o: o.state == "cancel")
            ],
        )
        return result

    def _logistics_sync_payload(self, lines=True):
        """Canonical payload of an order; override to add data, keeping the JSON Schema valid."""
        self.ensure_one()
        partner = self.partner_shipping_id
        payload = {
            "order_id": self.env["logistics.sync.record"]._canonical_id(self),
            "name": self.name,
            "client_order_ref": self.client_order_ref or None,
            "warehouse": self.warehouse_id.code or None,
            "currency": self.currency_id.name,
            "amount_total": self.amount_total,
            "partner": {
                "name": partner.name or "",
                "email": partner.email or None,
                "phone": partner.phone or None,
                "street": partner.street or None,
                "city": partner.city or None,
                "zip": partner.zip or None,
                "country": partner.country_id.code or None,
            },
        }
        if lines:
            payload["lines"] = [
                {
                    "sku": line.product_id.default_code or None,
                    "product": line.product_id.display_name,
                    "quantity": line.product_uom_qty,
                    "uom": line.product_uom.name,
                    "price_unit": line.price_unit,
                }
                for line in self.order_line
                if line.product_id and not line.display_type
            ]
        return payload
