from odoo import fields, models

from .logistics_sync_shipment import MILESTONES


class LogisticsSyncShipmentPackage(models.Model):
    """One parcel of a shipment: a ``stock.quant.package`` the goods are packed in, or the
    unpacked content; its own tracking number, label and last milestone."""

    _name = "logistics.sync.shipment.package"
    _description = "Logistics Sync Shipment Package"
    _order = "shipment_id, id"

    shipment_id = fields.Many2one(
        "logistics.sync.shipment", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="shipment_id.company_id", store=True)
    package_id = fields.Many2one("stock.quant.package", ondelete="set null")
    name = fields.Char(required=True)
    reference = fields.Char(
        required=True, help="How the carrier knows this parcel within the shipment."
    )
    weight = fields.Float(digits="Stock Weight")
    tracking_number = fields.Char(index=True)
    label_attachment_id = fields.Many2one("ir.attachment", string="Label", ondelete="set null")
    label_available = fields.Boolean(compute="_compute_label_available")
    status = fields.Selection(MILESTONES, string="Tracking status", readonly=True)
    status_at = fields.Datetime(readonly=True)

    def _compute_label_available(self):
        for package in self:
            package.label_available = bool(package.label_attachment_id)

    def action_download_label(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.label_attachment_id.id}?download=true",
            "target": "self",
        }
