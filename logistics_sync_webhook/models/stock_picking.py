from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_sync_status = fields.Char(
        string="External status",
        readonly=True,
        copy=False,
        help="Last canonical status an external system reported for this transfer "
        "(shipment.status webhook, mapped through the code maps).",
    )
    logistics_sync_status_date = fields.Datetime(
        string="External status date", readonly=True, copy=False
    )
    logistics_sync_status_system_id = fields.Many2one(
        "logistics.sync.system", string="Reported by", readonly=True, copy=False
    )
