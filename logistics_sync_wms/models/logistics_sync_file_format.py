import fnmatch
import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import file_formats

KINDS = [
    ("confirmation", "Confirmations in (DESADV)"),
    ("snapshot", "Inventory reports in (INVRPT)"),
    ("reservation", "Reservations and shortages in (CSV)"),
    ("fulfilment", "Fulfilment requests out (ORDERS)"),
]
#: Default name of the files Odoo writes; {name}, {fulfilment_id} and {uid} (the message id)
#: are filled in.
DEFAULT_OUT_NAME = "ORDERS_{name}_{uid}"


class LogisticsSyncFileFormat(models.Model):
    """How one kind of file is written by or for a partner: CSV with a column mapping, or
    EDIFACT. Incoming files are matched to a format by their name (first match in sequence
    order)."""

    _name = "logistics.sync.file.format"
    _description = "Logistics Sync File Format"
    _order = "system_id, sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    system_id = fields.Many2one(
        "logistics.sync.system", string="Partner", required=True, ondelete="cascade", index=True
    )
    kind = fields.Selection(KINDS, required=True)
    direction = fields.Selection(
        [("in", "Incoming"), ("out", "Outgoing")], compute="_compute_direction", store=True
    )
    file_type = fields.Selection(
        [("csv", "CSV"), ("edifact", "EDIFACT")], required=True, default="csv"
    )
    file_pattern = fields.Char(
        default="*",
        help="Incoming files whose name matches this pattern ('*' and '?' wildcards, case "
        "insensitive, e.g. 'DESADV_*.csv') are read with this format.",
    )
    out_name = fields.Char(
        string="File name",
        default=DEFAULT_OUT_NAME,
        help="Outgoing files: the name written, where {name} (the transfer), {fulfilment_id} "
        "and {uid} (the message id, unique) are replaced; characters other than letters, "
        "digits, '.', '_' and '-' become '_'; the extension (.csv or .edi) is added.",
    )
    encoding = fields.Char(default="utf-8", required=True)
    csv_delimiter = fields.Selection(
        [(",", "Comma"), (";", "Semicolon"), ("\t", "Tab"), ("|", "Pipe")],
        string="Delimiter",
        default=",",
    )
    csv_header = fields.Boolean(
        string="Header row",
        default=True,
        help="With a header row, columns are named by it; without, by position (1, 2...).",
    )
    column_ids = fields.One2many("logistics.sync.file.column", "format_id", string="Columns")
    default_stage = fields.Selection(
        [(stage, stage.capitalize()) for stage in file_formats.STAGES],
        default="shipped",
        help="Confirmations: the stage of rows without a stage column.",
    )
    snapshot_kind = fields.Selection(
        [("full", "Full"), ("partial", "Partial")],
        default="full",
        help="Inventory reports: a full report covers every product of the warehouse.",
    )
    edifact_sender = fields.Char(
        string="Our interchange id", help="EDIFACT: the sender id Odoo writes in UNB."
    )
    edifact_recipient = fields.Char(
        string="Partner interchange id", help="EDIFACT: the recipient id Odoo writes in UNB."
    )

    @api.depends("kind")
    def _compute_direction(self):
        for file_format in self:
            file_format.direction = "out" if file_format.kind == "fulfilment" else "in"

    @api.constrains("file_type", "column_ids", "kind", "encoding")
    def _check_columns(self):
        for file_format in self:
            try:
                "".encode(file_format.encoding)
            except LookupError as exc:
                raise ValidationError(_("Unknown encoding %s.", file_format.encoding)) from exc
            if file_format.file_type != "csv":
                if file_format.kind == "reservation":
                    raise ValidationError(
                        _("Reservation and shortage reports are read from CSV files only.")
                    )
                continue
            mapped = set(file_format.column_ids.mapped("field"))
            missing = [f for f in file_formats.REQUIRED[file_format.kind] if f not in mapped]
            if missing:
                raise ValidationError(
                    _(
                        "The CSV format %(name)s needs a column for: %(fields)s.",
                        name=file_format.name,
                        fields=", ".join(missing),
                    )
                )
            if not file_format.csv_header:
                for column in file_format.column_ids:
                    if not column.column.isdigit() or int(column.column) < 1:
                        raise ValidationError(
                            _(
                                "Without a header row, columns are positions (1, 2...), not " "%s.",
                                column.column,
                            )
                        )

    def _columns(self):
        self.ensure_one()
        return [(column.column, column.field) for column in self.column_ids]

    def _matches(self, file_name):
        self.ensure_one()
        return fnmatch.fnmatch(file_name.lower(), (self.file_pattern or "*").lower())

    @api.model
    def _for_file(self, system, file_name):
        """The incoming format of ``system`` for ``file_name`` (empty if none matches)."""
        formats = self.search([("system_id", "=", system.id), ("direction", "=", "in")])
        return next((f for f in formats if f._matches(file_name)), self.browse())

    def _render_message(self, message):
        """``(file name, bytes)`` of an outbound message in this format."""
        self.ensure_one()
        payload = message.payload or {}
        fulfilment_id = str(
            payload.get("fulfilment_id") or payload.get("id") or message.aggregate_canonical_id
        )
        payload = dict(payload, fulfilment_id=fulfilment_id)
        if self.file_type == "edifact":
            text = file_formats.write_orders(
                payload,
                sender=self.edifact_sender,
                recipient=self.edifact_recipient,
                reference=message.uid.replace("-", "")[:14],
                when=message.create_date,
                function=file_formats.ORDERS_FUNCTIONS.get(message.type_code, "9"),
            )
            extension = ".edi"
        else:
            text = file_formats.write_csv(
                file_formats.fulfilment_rows(payload),
                self._columns(),
                self.csv_delimiter or ",",
                self.csv_header,
            )
            extension = ".csv"
        stem = (self.out_name or "{uid}").format(
            fulfilment_id=fulfilment_id, name=payload.get("name") or fulfilment_id, uid=message.uid
        )
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", stem) + extension
        return name, text.encode(self.encoding or "utf-8")
