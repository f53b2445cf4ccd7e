from odoo import api, fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    logistics_sync_reconciliation_id = fields.Many2one(
        "logistics.sync.inventory.reconciliation",
        string="Inventory reconciliation",
        readonly=True,
        index="btree_not_null",
        help="The WMS inventory reconciliation whose approval made this adjustment.",
    )

    def _action_assign(self, force_qty=False):
        result = super()._action_assign(force_qty=force_qty)
        self.picking_id._logistics_sync_wms_request()
        return result

    @api.model_create_multi
    def create(self, vals_list):
        moves = super().create(vals_list)
        moves.picking_id.logistics_sync_wms_fulfilment_ids._announce_change()
        return moves

    def write(self, vals):
        result = super().write(vals)
        if {"product_uom_qty", "product_id", "product_uom"} & set(vals):
            self.picking_id.logistics_sync_wms_fulfilment_ids._announce_change()
        return result
