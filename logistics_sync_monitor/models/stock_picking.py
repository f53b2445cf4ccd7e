from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_sync_eta_at = fields.Datetime(
        related="logistics_sync_shipment_id.eta_at", string="Expected delivery"
    )
    logistics_sync_eta_latest_at = fields.Datetime(
        related="logistics_sync_shipment_id.eta_latest_at", string="Expected at the latest"
    )
    logistics_sync_eta_basis = fields.Char(
        related="logistics_sync_shipment_id.eta_basis", string="ETA basis"
    )
