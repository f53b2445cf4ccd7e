from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import file_formats

FIELD_LABELS = {
    "fulfilment_id": "Fulfilment id",
    "confirmation_id": "Confirmation id",
    "reservation_id": "Reservation id",
    "status": "Status (reserved, shortage)",
    "stage": "Stage (picked, packed, shipped)",
    "sku": "SKU",
    "partner_sku": "Partner SKU",
    "quantity": "Quantity",
    "uom": "Unit of measure",
    "lot": "Lot / serial",
    "location": "Location",
    "package": "Package",
    "package_weight": "Package weight (kg)",
    "package_length": "Package length (cm)",
    "package_width": "Package width (cm)",
    "package_height": "Package height (cm)",
    "carrier": "Carrier",
    "service": "Carrier service",
    "tracking_number": "Tracking number",
    "complete": "Complete (1/0)",
    "snapshot_id": "Snapshot id",
    "taken_at": "Taken at",
    "warehouse": "Warehouse",
    "reference": "Reference",
    "requested_date": "Requested date",
    "ship_to_name": "Ship-to name",
    "ship_to_street": "Ship-to street",
    "ship_to_city": "Ship-to city",
    "ship_to_zip": "Ship-to ZIP",
    "ship_to_country": "Ship-to country",
}


class LogisticsSyncFileColumn(models.Model):
    """One column of a CSV format: which canonical field it holds."""

    _name = "logistics.sync.file.column"
    _description = "Logistics Sync File Column"
    _order = "format_id, sequence, id"

    format_id = fields.Many2one(
        "logistics.sync.file.format", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10, help="Order of the columns in files Odoo writes.")
    column = fields.Char(
        required=True,
        help="The column's header name, or its position (1, 2...) in files without header.",
    )
    field = fields.Selection(
        list(FIELD_LABELS.items()),
        required=True,
        help="The canonical field the column holds.",
    )

    _sql_constraints = [
        (
            "field_unique",
            "UNIQUE(format_id, field)",
            "A field is mapped to one column of a format.",
        )
    ]

    @api.constrains("field", "format_id")
    def _check_field_kind(self):
        for column in self:
            allowed = file_formats.FIELDS[column.format_id.kind]
            if column.field not in allowed:
                raise ValidationError(
                    self.env._(
                        "%(field)s is not a field of %(kind)s files.",
                        field=column.field,
                        kind=column.format_id.kind,
                    )
                )
