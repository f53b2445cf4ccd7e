import hashlib

from odoo import api, fields, models

from odoo.addons.logistics_sync_core import payload as payload_tools
from odoo.addons.logistics_sync_core.models.logistics_sync_event import CONTEXT_ORIGIN

from .stock_picking import CONTEXT_WMS_APPLY, CONTEXT_WMS_VALIDATE

STATES = [
    ("requested", "Requested"),
    ("reserved", "Reserved"),
    ("shortage", "Shortage"),
    ("picked", "Picked"),
    ("packed", "Packed"),
    ("shipped", "Shipped"),
    ("cancelled", "Cancelled"),
    ("error", "Error"),
]
#: Fulfilment states in which the request may still change or be cancelled.
OPEN_STATES = ("requested", "reserved", "shortage", "picked", "packed", "error")
_STAGE_ORDER = {"picked": 1, "packed": 2, "shipped": 3}


class LogisticsSyncWmsFulfilment(models.Model):
    """A fulfilment request: one per transfer run by an external WMS or 3PL.

    Its canonical id (``uid``, the aggregate id of its events) is the fulfilment id the
    warehouse system quotes in its confirmations. Its events (``fulfilment.requested``,
    ``fulfilment.changed``, ``fulfilment.cancelled``) always originate from Odoo, so they
    reach the warehouse system also when a change it caused produced them (a backorder).
    """

    _name = "logistics.sync.wms.fulfilment"
    _description = "Logistics Sync Fulfilment Request"
    _order = "id desc"

    name = fields.Char(required=True, readonly=True, help="The transfer's reference.")
    # the UNIQUE constraint indexes it
    uid = fields.Char(
        string="Fulfilment ID",
        readonly=True,
        copy=False,
        help="The id the warehouse system quotes in its confirmations (canonical id).",
    )
    picking_id = fields.Many2one(
        "stock.picking", string="Transfer", required=True, readonly=True, ondelete="cascade"
    )
    system_id = fields.Many2one(
        "logistics.sync.system", string="Warehouse system", required=True, readonly=True
    )
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    state = fields.Selection(
        STATES,
        compute="_compute_state",
        store=True,
        index=True,
        help="Requested: sent, nothing heard back. Reserved / Shortage: as the warehouse "
        "system reported. Picked, Packed, Shipped: the latest confirmation applied. Error: a "
        "confirmation could not be applied (see Confirmations); fix the cause and Retry, or "
        "Dismiss it. Cancelled: the transfer was cancelled in Odoo.",
    )
    cancelled = fields.Boolean(readonly=True)
    revision = fields.Integer(
        readonly=True, default=1, help="Raised by each fulfilment.changed announcement."
    )
    content_hash = fields.Char(readonly=True, help="Fingerprint of the last announced content.")
    requested_at = fields.Datetime(readonly=True)
    request_payload = fields.Json(readonly=True, help="The content last announced.")
    reservation_status = fields.Selection(
        [("reserved", "Reserved"), ("shortage", "Shortage")],
        readonly=True,
        help="The latest reservation report of the warehouse system.",
    )
    reservation_note = fields.Text(readonly=True, help="Short lines the system reported.")
    carrier = fields.Char(readonly=True, help="Carrier reported with the shipment.")
    service = fields.Char(readonly=True)
    tracking_numbers = fields.Char(readonly=True)
    confirmation_ids = fields.One2many(
        "logistics.sync.wms.confirmation", "fulfilment_id", readonly=True
    )
    error_count = fields.Integer(compute="_compute_errors", string="Errors")
    last_error = fields.Text(compute="_compute_errors")

    _sql_constraints = [
        ("picking_unique", "UNIQUE(picking_id)", "A transfer has one fulfilment request."),
        ("uid_unique", "UNIQUE(uid)", "Fulfilment ids are unique."),
    ]

    @api.depends(
        "cancelled", "reservation_status", "confirmation_ids.state", "confirmation_ids.stage"
    )
    def _compute_state(self):
        for fulfilment in self:
            confirmations = fulfilment.confirmation_ids
            stages = confirmations.filtered(
                lambda c: c.state == "applied" and c.kind == "confirmation"
            ).mapped("stage")
            if fulfilment.cancelled:
                fulfilment.state = "cancelled"
            elif confirmations.filtered(lambda c: c.state in ("error", "quarantined")):
                fulfilment.state = "error"
            elif stages:
                fulfilment.state = max(stages, key=_STAGE_ORDER.get)
            else:
                fulfilment.state = fulfilment.reservation_status or "requested"

    @api.depends("confirmation_ids.state", "confirmation_ids.error")
    def _compute_errors(self):
        for fulfilment in self:
            failed = fulfilment.confirmation_ids.filtered(
                lambda c: c.state in ("error", "quarantined")
            ).sorted("id")
            fulfilment.error_count = len(failed)
            fulfilment.last_error = failed[-1:].error or False

    # ------------------------------------------------------------ request out

    @api.model
    def _request(self, picking):
        """Create the fulfilment request of ``picking`` and announce it
        (``fulfilment.requested``); return it."""
        system = picking.logistics_sync_wms_system_id
        fulfilment = self.sudo().create(
            {
                "name": picking.name,
                "picking_id": picking.id,
                "system_id": system.id,
                "warehouse_id": picking.picking_type_id.warehouse_id.id,
                "company_id": picking.company_id.id,
                "requested_at": fields.Datetime.now(),
            }
        )
        fulfilment.uid = self.env["logistics.sync.record"]._canonical_id(fulfilment)
        payload = fulfilment._request_payload()
        fulfilment.write({"content_hash": _hash(payload), "request_payload": payload})
        fulfilment._emit("fulfilment.requested", payload)
        return fulfilment

    def _announce_change(self):
        """Emit ``fulfilment.changed`` for the open requests whose content changed.

        Not while a confirmation is applied or a transfer validated: the moves split then
        are the system's own report, not a new request.
        """
        if self.env.context.get(CONTEXT_WMS_APPLY) or self.env.context.get(CONTEXT_WMS_VALIDATE):
            return
        for fulfilment in self.filtered(lambda f: f.state in OPEN_STATES and not f.cancelled):
            if fulfilment.picking_id.state in ("done", "cancel"):
                continue
            payload = fulfilment._request_payload()
            content_hash = _hash(payload)
            if content_hash == fulfilment.content_hash:
                continue
            revision = fulfilment.revision + 1
            payload["revision"] = revision
            fulfilment.sudo().write(
                {"revision": revision, "content_hash": content_hash, "request_payload": payload}
            )
            fulfilment._emit("fulfilment.changed", payload)

    def _cancel(self, reason=None):
        """Mark the open requests cancelled and announce it (``fulfilment.cancelled``)."""
        for fulfilment in self.filtered(lambda f: not f.cancelled and f.state != "shipped"):
            fulfilment.sudo().cancelled = True
            fulfilment._emit(
                "fulfilment.cancelled",
                {
                    "fulfilment_id": fulfilment.uid,
                    "picking_id": self.env["logistics.sync.record"]._canonical_id(
                        fulfilment.picking_id
                    ),
                    "name": fulfilment.name,
                    "reason": reason or None,
                },
            )

    def _emit(self, type_code, payload):
        # the request is Odoo's word to the warehouse system, also when a change the system
        # made caused it (a backorder after its short pick): never suppressed as an echo
        self.env["logistics.sync.event"].with_context(**{CONTEXT_ORIGIN: False})._emit(
            type_code, self, payload, company=self.company_id
        )

    def _partner_sku(self, product):
        """The SKU the warehouse system uses: its cross-reference of the product, else the
        SKU code map, else the canonical SKU (internal reference)."""
        self.ensure_one()
        return (
            self.env["logistics.sync.xref"].sudo()._external_id(self.system_id, product)
            or self.env["logistics.sync.code.map"]
            .sudo()
            ._to_external(self.system_id, "sku", product.default_code)
            or product.default_code
            or None
        )

    def _request_payload(self):
        """Canonical ``fulfilment.requested`` payload (also the body of ``changed``)."""
        self.ensure_one()
        picking = self.picking_id
        system = self.system_id
        records = self.env["logistics.sync.record"]
        CodeMap = self.env["logistics.sync.code.map"].sudo()
        partner = picking.partner_id
        ship_to = None
        if partner:
            ship_to = {
                "name": partner.name or None,
                "street": partner.street or None,
                "street2": partner.street2 or None,
                "zip": partner.zip or None,
                "city": partner.city or None,
                "state": partner.state_id.code or None,
                "country": partner.country_id.code or None,
                "email": partner.email or None,
                "phone": partner.phone or None,
            }
        lines = []
        for move in picking.move_ids.filtered(lambda m: m.state != "cancel").sorted("id"):
            product = move.product_id
            lines.append(
                {
                    "line_id": records._canonical_id(move),
                    "sku": product.default_code or None,
                    "partner_sku": self._partner_sku(product),
                    "product": product.display_name,
                    "quantity": move.product_uom_qty,
                    "uom": CodeMap._to_external(system, "uom", move.product_uom.name)
                    or move.product_uom.name,
                    "lots": sorted(set(move.move_line_ids.lot_id.mapped("name"))),
                }
            )
        carrier, service = picking._logistics_sync_wms_carrier()
        return {
            "fulfilment_id": self.uid,
            "picking_id": records._canonical_id(picking),
            "name": picking.name,
            "revision": self.revision,
            "warehouse": picking.picking_type_id.warehouse_id.code or None,
            "operation": picking.picking_type_code,
            "origin": picking.origin or None,
            "order_id": records._canonical_id(picking.sale_id) if picking.sale_id else None,
            "requested_date": fields.Datetime.to_string(picking.scheduled_date)
            if picking.scheduled_date
            else None,
            "carrier": carrier,
            "service": service,
            "ship_to": ship_to,
            "lines": lines,
        }

    # ------------------------------------------------------------ actions

    def action_open_picking(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "stock.picking",
            "res_id": self.picking_id.id,
            "view_mode": "form",
        }

    def action_resend(self):
        """Announce the request again as ``fulfilment.changed`` with a new revision (the
        warehouse system lost it, or a manager wants it re-read)."""
        for fulfilment in self:
            fulfilment.sudo().content_hash = False
        self._announce_change()
        return True

    @api.model
    def _by_reference(self, system, reference):
        """The fulfilment ``reference`` names for ``system``: its fulfilment id, or the
        system's own id for it (cross-reference); empty if none."""
        fulfilment = self.sudo().search(
            [("uid", "=", reference), ("system_id", "=", system.id)], limit=1
        )
        if not fulfilment:
            fulfilment = (
                self.env["logistics.sync.xref"].sudo()._resolve(system, self._name, reference)
            )
            fulfilment = fulfilment.filtered(lambda f: f.system_id == system)
        return fulfilment


def _hash(payload):
    content = {key: value for key, value in payload.items() if key != "revision"}
    return hashlib.sha256(payload_tools.canonical_json(content).encode()).hexdigest()
