import base64
import binascii

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_datetime

from odoo.addons.logistics_sync_webhook.models.logistics_sync_inbound_message import (
    parse_datetime,
)


class LogisticsSyncPod(models.Model):
    """A proof of delivery: who signed, when, where, the signature and the documents.

    Received from the carrier (webhook or tracking query: once per carrier POD id, a
    UNIQUE constraint absorbing repeats) or entered by a user. Each one announces
    ``pod.received`` and clears the shipment's *POD late* flag.
    """

    _name = "logistics.sync.pod"
    _description = "Proof of Delivery"
    _inherit = ["mail.thread"]
    _order = "signed_at desc, id desc"
    _rec_name = "display_name"

    shipment_id = fields.Many2one(
        "logistics.sync.shipment",
        required=True,
        ondelete="cascade",
        index=True,
        domain=[("state", "=", "booked")],
    )
    picking_id = fields.Many2one(related="shipment_id.picking_id", store=True, index=True)
    sale_id = fields.Many2one(related="shipment_id.sale_id", store=True, index=True)
    company_id = fields.Many2one(related="shipment_id.company_id", store=True, index=True)
    signed_by = fields.Char(string="Signed by", required=True)
    signed_at = fields.Datetime(string="Delivered at", required=True, default=fields.Datetime.now)
    place = fields.Char(help="Address or description of where the goods were handed over.")
    latitude = fields.Float(digits=(10, 6))
    longitude = fields.Float(digits=(10, 6))
    signature = fields.Image(max_width=1024, max_height=512, attachment=True)
    attachment_ids = fields.Many2many(
        "ir.attachment", string="Documents", help="Delivery receipt, photos..."
    )
    source = fields.Selection(
        [("carrier", "Carrier"), ("user", "Entered by a user")],
        required=True,
        default="user",
        readonly=True,
    )
    external_ref = fields.Char(
        string="Carrier POD ID", readonly=True, help="The carrier's id of this proof."
    )
    note = fields.Text()

    _sql_constraints = [
        (
            "external_unique",
            "UNIQUE(shipment_id, external_ref)",
            "The carrier already sent this proof of delivery.",
        )
    ]

    @api.depends("signed_by", "shipment_id")
    def _compute_display_name(self):
        for pod in self:
            pod.display_name = _(
                "POD %(picking)s (%(signer)s)",
                picking=pod.shipment_id.picking_id.name or "",
                signer=pod.signed_by or "",
            )

    @api.model_create_multi
    def create(self, vals_list):
        pods = super().create(vals_list)
        for pod in pods:
            pod._announce()
        return pods

    def _announce(self):
        shipment = self.shipment_id.sudo()
        shipment.pod_late = False
        # documents uploaded or received before the proof existed: attach them to it
        self.attachment_ids.sudo().filtered(lambda a: not a.res_id).write(
            {"res_model": self._name, "res_id": self.id}
        )
        self.picking_id.message_post(
            body=_(
                "Proof of delivery: signed by %(signer)s on %(when)s%(place)s.",
                signer=self.signed_by,
                when=format_datetime(self.env, self.signed_at),
                place=f", {self.place}" if self.place else "",
            )
        )
        records = self.env["logistics.sync.record"].sudo()
        self.env["logistics.sync.event"].sudo()._emit(
            "pod.received",
            self.picking_id,
            {
                "shipment_id": shipment.reference,
                "picking_id": records._canonical_id(self.picking_id),
                "signed_by": self.signed_by,
                "signed_at": fields.Datetime.to_string(self.signed_at),
                "document_url": None,
                "place": self.place or None,
                "latitude": self.latitude or None,
                "longitude": self.longitude or None,
                "documents": len(self.attachment_ids),
                "source": self.source,
            },
        )

    @api.model
    def _receive(self, shipment, data, source):
        """Store the carrier's proof ``data`` for ``shipment`` unless already stored."""
        reference = data.get("pod_id") or f"{data.get('signed_by')}@{data.get('signed_at')}"
        existing = self.search(
            [("shipment_id", "=", shipment.id), ("external_ref", "=", reference)], limit=1
        )
        if existing:
            return existing
        documents = self.env["ir.attachment"]
        for document in data.get("documents") or []:
            documents |= documents.create(
                {
                    "name": document.get("name") or "document",
                    "raw": _decode(document.get("data"), "documents"),
                    "mimetype": document.get("mimetype") or "application/octet-stream",
                    "res_model": self._name,
                }
            )
        values = {
            "shipment_id": shipment.id,
            "signed_by": data.get("signed_by") or _("(not given)"),
            "signed_at": parse_datetime(data.get("signed_at")) or fields.Datetime.now(),
            "place": data.get("location") or data.get("place"),
            "latitude": data.get("latitude") or 0.0,
            "longitude": data.get("longitude") or 0.0,
            "source": source,
            "external_ref": reference,
            "attachment_ids": [(6, 0, documents.ids)],
        }
        if data.get("signature_png"):
            values["signature"] = base64.b64encode(_decode(data["signature_png"], "signature_png"))
        try:
            with self.env.cr.savepoint():
                return self.create(values)
        except psycopg2.errors.UniqueViolation:
            return self.search(
                [("shipment_id", "=", shipment.id), ("external_ref", "=", reference)], limit=1
            )

    def action_download_documents(self):
        self.ensure_one()
        if not self.attachment_ids:
            raise UserError(_("This proof of delivery has no document."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_ids[0].id}?download=true",
            "target": "self",
        }


def _decode(value, where):
    try:
        return base64.b64decode(value or "", validate=True)
    except (binascii.Error, ValueError):
        raise UserError(_("%s is not valid base64.", where)) from None
