from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

#: Move line fields the warehouse system owns on the transfers it runs: what was picked,
#: from where, which lot, into which package.
OWNED_LINE_FIELDS = ("quantity", "picked", "lot_id", "lot_name", "location_id", "result_package_id")


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    logistics_sync_system_id = fields.Many2one(
        "logistics.sync.system",
        string="Operated by",
        domain=[("kind", "in", ("wms", "3pl"))],
        ondelete="restrict",
        help="The external WMS or 3PL that runs this warehouse. Transfers of the operation "
        "types below are sent to it as fulfilment requests and completed from its "
        "confirmations; they cannot be validated by hand in Odoo.",
    )
    logistics_sync_picking_type_ids = fields.Many2many(
        "stock.picking.type",
        "logistics_sync_wms_warehouse_picking_type_rel",
        "warehouse_id",
        "picking_type_id",
        string="Operations run by the system",
        domain="[('warehouse_id', '=', id)]",
        help="Operation types the warehouse system performs (typically Delivery Orders). "
        "Transfers of other operation types are worked in Odoo as usual.",
    )
    logistics_sync_request_trigger = fields.Selection(
        [("ready", "When ready (stock reserved in Odoo)"), ("confirmed", "On confirmation")],
        string="Send fulfilment requests",
        default="ready",
        required=True,
        help="When ready: a transfer is requested once Odoo reserved its stock. On "
        "confirmation: as soon as the transfer is confirmed, for a warehouse system that "
        "reserves on its own.",
    )

    @api.constrains("logistics_sync_system_id", "logistics_sync_picking_type_ids")
    def _check_logistics_sync_system(self):
        for warehouse in self:
            system = warehouse.logistics_sync_system_id
            if system and system.kind not in ("wms", "3pl"):
                raise ValidationError(
                    _("%s is not a WMS or 3PL system: it cannot run a warehouse.", system.name)
                )
            foreign = warehouse.logistics_sync_picking_type_ids.filtered(
                lambda t, w=warehouse: t.warehouse_id != w
            )
            if foreign:
                raise ValidationError(
                    _(
                        "Operation types %(types)s belong to another warehouse than %(wh)s.",
                        types=", ".join(foreign.mapped("display_name")),
                        wh=warehouse.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        warehouses = super().create(vals_list)
        warehouses.logistics_sync_system_id._logistics_sync_wms_ensure_ownership_rule()
        return warehouses

    def write(self, vals):
        result = super().write(vals)
        if vals.get("logistics_sync_system_id"):
            self.logistics_sync_system_id._logistics_sync_wms_ensure_ownership_rule()
        return result
