from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_datetime

from .logistics_sync_shipment import OPEN_STATES

_MILESTONE_ICONS = {
    "booked": "fa-check-square-o",
    "picked_up": "fa-truck",
    "in_transit": "fa-road",
    "out_for_delivery": "fa-map-marker",
    "delivered": "fa-home",
    "delivery_failed": "fa-exclamation-triangle",
    "returned": "fa-undo",
    "exception": "fa-exclamation-circle",
}


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_sync_shipment_ids = fields.One2many(
        "logistics.sync.shipment", "picking_id", string="Carrier bookings", readonly=True
    )
    logistics_sync_shipment_id = fields.Many2one(
        "logistics.sync.shipment",
        string="Carrier booking",
        compute="_compute_logistics_sync_shipment",
        store=True,
        help="The latest booking of this transfer with a carrier.",
    )
    logistics_sync_booking_state = fields.Selection(
        related="logistics_sync_shipment_id.state", string="Booking", store=True, index=True
    )
    logistics_sync_tracking_status = fields.Selection(
        related="logistics_sync_shipment_id.status", string="Tracking"
    )
    logistics_sync_failure_reason = fields.Text(
        related="logistics_sync_shipment_id.failure_reason", string="Carrier's reason"
    )
    logistics_sync_pod_ids = fields.One2many(
        "logistics.sync.pod", "picking_id", string="Proofs of delivery", readonly=True
    )
    logistics_sync_label_ids = fields.Many2many(
        "ir.attachment", compute="_compute_logistics_sync_labels", string="Labels"
    )
    logistics_sync_timeline = fields.Html(
        compute="_compute_logistics_sync_timeline", string="Tracking timeline", sanitize=False
    )
    logistics_sync_bookable = fields.Boolean(compute="_compute_logistics_sync_bookable")

    @api.depends("logistics_sync_shipment_ids")
    def _compute_logistics_sync_shipment(self):
        for picking in self:
            picking.logistics_sync_shipment_id = picking.logistics_sync_shipment_ids.sorted("id")[
                -1:
            ]

    @api.depends("logistics_sync_shipment_id.package_ids.label_attachment_id")
    def _compute_logistics_sync_labels(self):
        for picking in self:
            picking.logistics_sync_label_ids = (
                picking.logistics_sync_shipment_id.package_ids.label_attachment_id
            )

    @api.depends("carrier_id", "state", "logistics_sync_booking_state")
    def _compute_logistics_sync_bookable(self):
        for picking in self:
            picking.logistics_sync_bookable = bool(
                picking.carrier_id
                and picking.carrier_id._logistics_sync_is_ours()
                and picking.picking_type_code == "outgoing"
                and picking.state not in ("draft", "cancel")
                and picking.logistics_sync_booking_state not in OPEN_STATES
            )

    @api.depends("logistics_sync_shipment_ids.milestone_ids")
    def _compute_logistics_sync_timeline(self):
        for picking in self:
            milestones = picking.logistics_sync_shipment_ids.milestone_ids.sorted(
                lambda m: (m.occurred_at, m.id), reverse=True
            )
            picking.logistics_sync_timeline = (
                _timeline(picking.env, milestones) if milestones else False
            )

    # ------------------------------------------------------------------ booking
    def _logistics_sync_open_shipment(self):
        """The booking in progress or in force of this transfer (maybe empty)."""
        self.ensure_one()
        return self.logistics_sync_shipment_ids.filtered(lambda s: s.state in OPEN_STATES)[:1]

    def _logistics_sync_book(self, source="user", system=None):
        """Start booking these transfers with their carrier, in the background."""
        Shipment = self.env["logistics.sync.shipment"]
        return Shipment.concat(
            *(Shipment._book(picking, source=source, system=system) for picking in self)
        )

    def send_to_shipper(self):
        # Odoo calls this while validating (stock_delivery's _send_confirmation_email) and
        # from the Send to Shipper button: our carriers book in the background instead
        ours = self.filtered(lambda p: p.carrier_id and p.carrier_id._logistics_sync_is_ours())
        ours._logistics_sync_book(source="validation")
        others = self - ours
        for picking in others:
            super(StockPicking, picking).send_to_shipper()
        return None

    def action_logistics_sync_book(self):
        """Book now (before validation, e.g. to print labels first, or again after a
        failure)."""
        for picking in self:
            if not picking.logistics_sync_bookable:
                raise UserError(_("%s cannot be booked with a carrier now.", picking.name))
        self._logistics_sync_book(source="user")
        return True

    def cancel_shipment(self):
        ours = self.filtered(lambda p: p.carrier_id and p.carrier_id._logistics_sync_is_ours())
        ours.logistics_sync_shipment_ids.filtered(
            lambda s: s.state in OPEN_STATES
        ).action_cancel_booking()
        others = self - ours
        if others:
            return super(StockPicking, others).cancel_shipment()
        return None

    def action_cancel(self):
        result = super().action_cancel()
        cancelled = self.filtered(lambda p: p.state == "cancel")
        cancelled.logistics_sync_shipment_ids.filtered(
            lambda s: s.state in OPEN_STATES
        ).action_cancel_booking()
        return result

    def action_logistics_sync_print_labels(self):
        self.ensure_one()
        return self.logistics_sync_shipment_id.action_print_labels()

    def action_logistics_sync_register_pod(self):
        self.ensure_one()
        shipment = self.logistics_sync_shipment_ids.filtered(lambda s: s.state == "booked")[-1:]
        if not shipment:
            raise UserError(_("%s has no booked shipment.", self.name))
        return {
            "type": "ir.actions.act_window",
            "name": _("Proof of delivery"),
            "res_model": "logistics.sync.pod",
            "view_mode": "form",
            "target": "new",
            "context": {"default_shipment_id": shipment.id},
        }

    def action_logistics_sync_open_shipments(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Carrier bookings"),
            "res_model": "logistics.sync.shipment",
            "view_mode": "list,form",
            "domain": [("picking_id", "=", self.id)],
        }

    def _logistics_sync_returned_shipment(self):
        """For a return transfer: the booked shipment of the transfer it returns."""
        self.ensure_one()
        origin = self.move_ids.origin_returned_move_id.picking_id
        return origin.logistics_sync_shipment_ids.filtered(lambda s: s.state == "booked")[-1:]


def _timeline(env, milestones):
    """A vertical timeline of ``milestones`` (newest first) as safe HTML."""
    labels = dict(milestones._fields["milestone"].selection)
    items = []
    for milestone in milestones:
        details = " · ".join(
            escape(part)
            for part in (milestone.location, milestone.reason, milestone.package_id.tracking_number)
            if part
        )
        items.append(
            Markup(
                '<li class="mb-2"><i class="fa fa-fw {icon} me-2" title="{label}"></i>'
                "<strong>{label}</strong> <span class='text-muted'>{when}</span>"
                "<span class='text-muted'> ({code})</span><div class='ms-4'>{details}</div></li>"
            ).format(
                icon=_MILESTONE_ICONS.get(milestone.milestone, "fa-circle"),
                label=labels.get(milestone.milestone, milestone.milestone),
                when=format_datetime(env, milestone.occurred_at),
                code=milestone.code or "",
                details=details,
            )
        )
    return Markup('<ul class="list-unstyled">{}</ul>').format(Markup("").join(items))
