from odoo import fields, models


class LogisticsSyncInventorySnapshotLine(models.Model):
    """One line of a WMS inventory snapshot, as received (codes) and as resolved (records).

    Written in bulk by SQL (``execute_values``), never one ORM ``create`` per line: a
    snapshot can hold hundreds of thousands of lines. Hence no create/write tracking columns.
    """

    _name = "logistics.sync.inventory.snapshot.line"
    _description = "Logistics Sync Inventory Snapshot Line"
    _order = "snapshot_id, id"
    _log_access = False
    _rec_name = "sku"

    snapshot_id = fields.Many2one(
        "logistics.sync.inventory.snapshot", required=True, ondelete="cascade", index=True
    )
    part = fields.Integer(readonly=True, help="The part of the snapshot this line came in.")
    sku = fields.Char(string="SKU", required=True, readonly=True)
    location_code = fields.Char(readonly=True, help="The location as the system sent it.")
    lot_code = fields.Char(string="Lot code", readonly=True)
    quantity = fields.Float(digits="Product Unit of Measure", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    location_id = fields.Many2one("stock.location", readonly=True)
    lot_id = fields.Many2one("stock.lot", readonly=True)
    state = fields.Selection(
        [("new", "To resolve"), ("ok", "Resolved"), ("quarantined", "Unknown code")],
        default="new",
        required=True,
        readonly=True,
        help="Unknown code: its SKU, location or lot has no mapping; the code waits in "
        "Unknown Codes. Map it, then reprocess the snapshot.",
    )
