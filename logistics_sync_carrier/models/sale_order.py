from odoo import _, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    logistics_sync_pod_ids = fields.One2many(
        "logistics.sync.pod", "sale_id", string="Proofs of delivery", readonly=True
    )
    logistics_sync_pod_count = fields.Integer(compute="_compute_logistics_sync_pod_count")
    logistics_sync_shipment_ids = fields.One2many(
        "logistics.sync.shipment", "sale_id", string="Carrier bookings", readonly=True
    )

    def _compute_logistics_sync_pod_count(self):
        for order in self:
            order.logistics_sync_pod_count = len(order.logistics_sync_pod_ids)

    def action_logistics_sync_view_pods(self):
        self.ensure_one()
        action = {
            "type": "ir.actions.act_window",
            "name": _("Proofs of delivery"),
            "res_model": "logistics.sync.pod",
            "view_mode": "list,form",
            "domain": [("sale_id", "=", self.id)],
        }
        if len(self.logistics_sync_pod_ids) == 1:
            action.update(view_mode="form", res_id=self.logistics_sync_pod_ids.id)
        return action
