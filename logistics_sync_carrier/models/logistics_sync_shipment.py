import logging
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import pdf

from odoo.addons.logistics_sync_core.exceptions import UnknownCodeError
from odoo.addons.logistics_sync_core.saga import StepRetry
from odoo.addons.logistics_sync_webhook.models.logistics_sync_inbound_message import (
    parse_datetime,
)

from ..exceptions import CarrierError, CarrierUnavailable

_logger = logging.getLogger(__name__)

MILESTONES = [
    ("booked", "Booked"),
    ("picked_up", "Picked up"),
    ("in_transit", "In transit"),
    ("out_for_delivery", "Out for delivery"),
    ("delivered", "Delivered"),
    ("delivery_failed", "Delivery failed"),
    ("returned", "Returned"),
    ("exception", "Exception"),
]
MILESTONE_CODES = {code for code, _label in MILESTONES}
#: Milestones after which the carrier has the goods: the first one announces the dispatch.
DISPATCHED = {"picked_up", "in_transit", "out_for_delivery", "delivered", "delivery_failed"}
#: No tracking poll for shipments in these statuses.
FINAL_STATUSES = ("delivered", "returned")
#: States in which a transfer's booking exists or is being made: at most one per transfer.
OPEN_STATES = ("booking", "booked", "cancelling", "cancel_failed")


class LogisticsSyncShipment(models.Model):
    """One booking of a transfer with a carrier: the booking saga's subject, its packages
    and labels, the tracking milestones and the proofs of delivery.

    A transfer has at most one open shipment (a partial unique index in PostgreSQL), so a
    booking started twice, by a double click, a retried request or two workers, books once.
    Its canonical id is the reference sent to the carrier as idempotency key: a retried
    booking never makes a second shipment at the carrier. A rejected booking leaves a failed
    shipment and, when the shipping method lists fallbacks, a new one with the next carrier.

    Events are emitted about the transfer (the aggregate partners know as the shipment in
    the API), so a subscriber receives picking.validated, shipment.booked, dispatched and
    delivered in that order, across fallbacks.
    """

    _name = "logistics.sync.shipment"
    _description = "Logistics Sync Carrier Shipment"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True)
    picking_id = fields.Many2one(
        "stock.picking",
        string="Transfer",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    sale_id = fields.Many2one(related="picking_id.sale_id", store=True, index=True)
    partner_id = fields.Many2one(related="picking_id.partner_id", string="Recipient", store=True)
    company_id = fields.Many2one(related="picking_id.company_id", store=True, index=True)
    carrier_id = fields.Many2one(
        "delivery.carrier",
        string="Shipping method",
        required=True,
        readonly=True,
        ondelete="restrict",
    )
    primary_carrier_id = fields.Many2one(
        "delivery.carrier",
        string="First shipping method",
        readonly=True,
        help="The method the booking started with; its fallbacks are tried in turn.",
    )
    system_id = fields.Many2one(
        related="carrier_id.logistics_sync_system_id", string="Carrier", store=True, index=True
    )
    service = fields.Char(related="carrier_id.logistics_sync_service", store=True)
    state = fields.Selection(
        [
            ("booking", "Booking"),
            ("booked", "Booked"),
            ("failed", "Booking failed"),
            ("cancelling", "Cancelling"),
            ("cancelled", "Cancelled"),
            ("cancel_failed", "Cancellation refused"),
        ],
        default="booking",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
        help="Booking: in the background, nobody waits for it. Booking failed: the carrier "
        "rejected it (see the reason); nothing stays booked. Cancellation refused: the "
        "carrier keeps the booking (see the reason); a person must act.",
    )
    status = fields.Selection(
        MILESTONES,
        string="Tracking status",
        readonly=True,
        index=True,
        tracking=True,
        help="The newest milestone reported; an older report arriving late never replaces it.",
    )
    status_at = fields.Datetime(string="Status time", readonly=True)
    carrier_ref = fields.Char(string="Carrier shipment ID", readonly=True, index=True, copy=False)
    tracking_number = fields.Char(readonly=True, index=True, copy=False)
    price = fields.Float(readonly=True, digits="Product Price")
    currency = fields.Char(readonly=True)
    package_ids = fields.One2many("logistics.sync.shipment.package", "shipment_id", readonly=True)
    milestone_ids = fields.One2many(
        "logistics.sync.shipment.milestone", "shipment_id", readonly=True
    )
    pod_ids = fields.One2many("logistics.sync.pod", "shipment_id", string="Proofs of delivery")
    saga_id = fields.Many2one("logistics.sync.saga", string="Booking run", readonly=True)
    cancel_saga_id = fields.Many2one(
        "logistics.sync.saga", string="Cancellation run", readonly=True
    )
    source = fields.Selection(
        [
            ("validation", "Transfer validated"),
            ("user", "Booked by a user"),
            ("api", "Partner API"),
        ],
        readonly=True,
        default="user",
    )
    requested_by_system_id = fields.Many2one(
        "logistics.sync.system", string="Requested by", readonly=True, help="Partner API caller."
    )
    failure_reason = fields.Text(readonly=True)
    cancel_requested = fields.Boolean(
        readonly=True, help="Cancelled in Odoo while the booking was still running."
    )
    maybe_at_carrier = fields.Boolean(
        readonly=True,
        help="A booking request got no answer: the carrier may hold a booking for our "
        "reference, so a failed booking is also cancelled by reference.",
    )
    booked_at = fields.Datetime(readonly=True)
    dispatched_at = fields.Datetime(readonly=True)
    delivered_at = fields.Datetime(readonly=True)
    cancelled_at = fields.Datetime(readonly=True)
    last_polled_at = fields.Datetime(readonly=True)
    pod_late = fields.Boolean(
        string="POD late",
        readonly=True,
        index=True,
        help="Delivered, and no proof of delivery within the carrier's expected delay.",
    )
    label_count = fields.Integer(compute="_compute_label_count")
    reference = fields.Char(
        compute="_compute_reference",
        help="Sent to the carrier as our reference and idempotency key: the shipment's "
        "canonical id.",
    )

    def init(self):
        # at most one booking in progress or in force per transfer, whoever starts it
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS logistics_sync_shipment_open_unique
                ON logistics_sync_shipment (picking_id)
             WHERE state IN ('booking', 'booked', 'cancelling', 'cancel_failed')
            """
        )

    def _compute_label_count(self):
        for shipment in self:
            shipment.label_count = len(shipment.package_ids.label_attachment_id)

    def _compute_reference(self):
        records = self.env["logistics.sync.record"].sudo()
        for shipment in self:
            shipment.reference = records._canonical_id(shipment) if shipment.id else False

    # ------------------------------------------------------------------ booking
    @api.model
    def _book(self, picking, carrier=None, source="user", system=None, primary=None):
        """Start booking ``picking`` with ``carrier`` (default: its shipping method) in the
        background; return the open shipment (an existing one is returned as it is)."""
        carrier = carrier or picking.carrier_id
        if not carrier or not carrier._logistics_sync_is_ours():
            raise UserError(
                _("%s has no shipping method booked through Logistics Sync.", picking.display_name)
            )
        existing = picking._logistics_sync_open_shipment()
        if existing:
            return existing
        values = {
            "name": f"{picking.name} / {carrier.name}",
            "picking_id": picking.id,
            "carrier_id": carrier.id,
            "primary_carrier_id": (primary or carrier).id,
            "source": source,
            "requested_by_system_id": system.id if system else False,
        }
        quiet = self.sudo().with_context(tracking_disable=True, mail_create_nolog=True)
        try:
            with self.env.cr.savepoint():
                shipment = quiet.create(values)
        except psycopg2.errors.UniqueViolation:
            # another transaction opened one for this transfer meanwhile
            return picking._logistics_sync_open_shipment()
        # the carrier's idempotency key: made now, so no retried step can make another
        self.env["logistics.sync.record"].sudo()._canonical_id(shipment)
        shipment.saga_id = quiet.env["logistics.sync.saga"].start(
            "carrier_booking", shipment, {"picking": picking.name}
        )
        return shipment.with_env(self.env)

    def _carrier_payload(self):
        """The canonical booking request (the generic JSON protocol sends it as is)."""
        self.ensure_one()
        picking = self.picking_id
        warehouse_partner = (
            picking.picking_type_id.warehouse_id.partner_id or picking.company_id.partner_id
        )
        return {
            "service": self.carrier_id._logistics_sync_service_code(),
            "ship_from": self._address(warehouse_partner),
            "ship_to": self._address(picking.partner_id),
            "packages": [
                {"reference": package.reference, "weight": package.weight, "name": package.name}
                for package in self.package_ids
            ],
            "picking": picking.name,
            "order": picking.sale_id.name or None,
            "client_order_ref": picking.sale_id.client_order_ref or None,
        }

    @api.model
    def _address(self, partner):
        return {
            "name": partner.name or "",
            "street": partner.street or None,
            "zip": partner.zip or None,
            "city": partner.city or None,
            "country": partner.country_id.code or None,
            "phone": partner.phone or None,
            "email": partner.email or None,
        }

    def _prepare_packages(self):
        """One package per ``stock.quant.package`` the goods are packed in, plus one for what
        is not packed; kept once made (the booking is retried with the same packages)."""
        self.ensure_one()
        if self.package_ids:
            return
        picking = self.picking_id
        lines = []
        for package in picking.move_line_ids.result_package_id:
            lines.append(
                {
                    "package_id": package.id,
                    "name": package.name,
                    "reference": package.name,
                    "weight": package.shipping_weight or package.weight or 0.0,
                }
            )
        unpacked = picking.move_line_ids.filtered(lambda line: not line.result_package_id)
        if unpacked or not lines:
            lines.append(
                {
                    "name": _("Bulk content") if lines else picking.name,
                    "reference": str(len(lines) + 1),
                    "weight": picking.weight_bulk
                    if lines
                    else (picking.shipping_weight or picking.weight),
                }
            )
        self.write({"package_ids": [(0, 0, values) for values in lines]})

    def _set_booking(self, answer):
        """Store the carrier's answer to a booking: its id, tracking numbers, price."""
        self.ensure_one()
        tracking = {
            p.get("reference"): p.get("tracking_number") for p in answer.get("packages") or []
        }
        for package in self.package_ids:
            package.tracking_number = tracking.get(package.reference) or answer.get(
                "tracking_number"
            )
        self.write(
            {
                "carrier_ref": answer.get("id"),
                "tracking_number": answer.get("tracking_number")
                or self.package_ids[:1].tracking_number,
                "price": float(answer.get("price") or 0.0),
                "currency": answer.get("currency") or False,
            }
        )
        if answer.get("id"):
            self.env["logistics.sync.xref"].sudo()._link(self.system_id, self, answer["id"])

    def _guard_step(self):
        """Refuse to go on with a booking cancelled in Odoo meanwhile (compensation then
        cancels what was done)."""
        if self.cancel_requested:
            raise UserError(_("Cancelled in Odoo before the booking was complete."))

    def _call_carrier(self, operation, *args):
        """Run a protocol call from a saga step: a transient failure waits and retries the
        step (honouring Retry-After), any other carrier error fails it with its reason."""
        try:
            return self.carrier_id._logistics_sync_call(operation, *args)
        except CarrierUnavailable as exc:
            if operation == "send_shipping":
                # the request may have reached the carrier: remember to cancel by reference
                self.env.cr.execute(
                    "UPDATE logistics_sync_shipment SET maybe_at_carrier = true WHERE id = %s",
                    (self.id,),
                )
            raise StepRetry(exc.reason, seconds=exc.retry_after) from None
        except CarrierError as exc:
            raise UserError(exc.reason) from None

    def _step_book(self):
        self._guard_step()
        self._prepare_packages()
        self._call_carrier("send_shipping", self.picking_id)
        return {"carrier_ref": self.carrier_ref, "tracking_number": self.tracking_number}

    def _step_unbook(self):
        self._call_carrier("cancel_booking", self)

    def _step_fetch_labels(self):
        self._guard_step()
        prefix = self.carrier_id._get_delivery_label_prefix()
        for package in self.package_ids.filtered(lambda p: not p.label_attachment_id):
            data = self._call_carrier("fetch_label", self, package)
            package.label_attachment_id = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    {
                        "name": f"{prefix}-{package.tracking_number or package.reference}.pdf",
                        "raw": data,
                        "mimetype": "application/pdf",
                        "res_model": self._name,
                        "res_id": self.id,
                    }
                )
            )

    def _step_drop_labels(self):
        self.package_ids.label_attachment_id.sudo().unlink()

    def _step_attach_labels(self):
        self._guard_step()
        picking = self.picking_id
        labels = self.package_ids.label_attachment_id.sudo()
        labels.write({"res_model": "stock.picking", "res_id": picking.id})
        tracking = self._tracking_ref()
        picking.sudo().write({"carrier_tracking_ref": tracking, "carrier_price": self.price})
        picking.message_post(
            body=_(
                "Booked with %(carrier)s: tracking %(tracking)s. %(count)s label(s) attached.",
                carrier=self.carrier_id.name,
                tracking=tracking,
                count=len(labels),
            ),
            attachment_ids=labels.ids,
        )

    def _step_detach_labels(self):
        picking = self.picking_id.sudo()
        labels = self.package_ids.label_attachment_id.sudo()
        labels.write({"res_model": self._name, "res_id": self.id})
        if picking.carrier_tracking_ref == self._tracking_ref():
            picking.carrier_tracking_ref = False
        picking.message_post(
            body=_("Booking with %s undone: labels withdrawn.", self.carrier_id.name)
        )

    def _step_announce(self):
        self._guard_step()
        now = fields.Datetime.now()
        self.write({"state": "booked", "booked_at": now})
        self._record_milestones(
            [{"milestone": "booked", "code": "booked", "occurred_at": now}], "odoo"
        )
        self._emit("shipment.booked", status="booked")

    def _booking_compensated(self):
        """The booking run ended compensated: the carrier rejected it (or it was cancelled
        in Odoo). Say so, undo what might exist at the carrier, try the next carrier."""
        self.ensure_one()
        reason = _reason_of(self.saga_id)
        self.write({"state": "failed", "failure_reason": reason})
        picking = self.picking_id
        if self.cancel_requested:
            picking.message_post(body=_("Booking with %s cancelled.", self.carrier_id.name))
            self._emit("shipment.cancelled", status="cancelled", reason=reason)
            return
        if self.maybe_at_carrier and not self.carrier_ref:
            # a lost answer may have left a booking under our reference: cancel it too
            self._start_cancellation()
        self._emit("shipment.booking_failed", status="booking_failed", reason=reason)
        fallback = self.primary_carrier_id._logistics_sync_next_fallback(
            picking.logistics_sync_shipment_ids.carrier_id
        )
        note = _(
            "%(carrier)s did not book %(picking)s: %(reason)s",
            carrier=self.carrier_id.name,
            picking=picking.name,
            reason=reason,
        )
        if fallback:
            note += " " + _("Trying %s instead.", fallback.name)
            picking.sudo().carrier_id = fallback
            self._book(
                picking,
                fallback,
                source=self.source,
                system=self.requested_by_system_id,
                primary=self.primary_carrier_id,
            )
        picking.message_post(body=note)
        self._notify_responsible(_("Carrier booking failed"), note)

    def _booking_stuck(self):
        """A compensation failed (the carrier would not cancel what was booked)."""
        self.ensure_one()
        reason = _reason_of(self.saga_id)
        self.write({"state": "cancel_failed", "failure_reason": reason})
        note = _(
            "Undoing the booking of %(picking)s with %(carrier)s failed: %(reason)s. The carrier "
            "may still hold it; fix the cause and press Retry on the booking run.",
            picking=self.picking_id.name,
            carrier=self.carrier_id.name,
            reason=reason,
        )
        self.picking_id.message_post(body=note)
        self._notify_responsible(_("Carrier booking half done"), note)

    # ------------------------------------------------------------------ cancellation
    def action_cancel_booking(self):
        """Cancel the booking at the carrier, in the background, with retries. A booking
        still running stops at its next step and is undone."""
        for shipment in self:
            if shipment.state == "booking":
                shipment.cancel_requested = True
            elif shipment.state in ("booked", "cancel_failed"):
                shipment._start_cancellation()
        return True

    def _start_cancellation(self):
        """Start the cancellation run; a failed shipment (whose booking answer was lost)
        keeps its state: only what the carrier may hold is cancelled."""
        self.ensure_one()
        if self.state != "failed":
            self.write({"state": "cancelling", "failure_reason": False})
        self.cancel_saga_id = (
            self.env["logistics.sync.saga"]
            .sudo()
            .start(
                "carrier_cancellation", self, {"carrier_ref": self.carrier_ref or self.reference}
            )
        )

    def _step_cancel(self):
        self._call_carrier("cancel_booking", self)

    def _cancellation_done(self):
        self.ensure_one()
        picking = self.picking_id.sudo()
        if self.state == "failed":
            picking.message_post(
                body=_("%s holds no booking under our reference any more.", self.carrier_id.name)
            )
            return
        self.write({"state": "cancelled", "cancelled_at": fields.Datetime.now()})
        if picking.carrier_tracking_ref == self._tracking_ref():
            picking.carrier_tracking_ref = False
        picking.message_post(
            body=_("Booking with %s cancelled at the carrier.", self.carrier_id.name)
        )
        self._emit("shipment.cancelled", status="cancelled")

    def _cancellation_refused(self):
        self.ensure_one()
        reason = _reason_of(self.cancel_saga_id)
        if self.state == "failed":
            note = _(
                "%(carrier)s could not confirm that no booking is left under our reference "
                "for %(picking)s: %(reason)s",
                carrier=self.carrier_id.name,
                picking=self.picking_id.name,
                reason=reason,
            )
        else:
            self.write({"state": "cancel_failed", "failure_reason": reason})
            note = _(
                "%(carrier)s refused to cancel the booking of %(picking)s: %(reason)s",
                carrier=self.carrier_id.name,
                picking=self.picking_id.name,
                reason=reason,
            )
        self.picking_id.message_post(body=note)
        self._notify_responsible(_("Carrier cancellation refused"), note)

    def _tracking_ref(self):
        """The transfer's tracking reference as this booking set it."""
        return ",".join(n for n in self.package_ids.mapped("tracking_number") if n)

    # ------------------------------------------------------------------ tracking
    def _record_milestones(self, events, source):
        """Record tracking events of this shipment; return the milestones that were new.

        ``events``: dicts with ``milestone`` (canonical), ``code`` (the carrier's),
        ``occurred_at`` (naive UTC), optional ``location``, ``latitude``, ``longitude``,
        ``reason``, ``package`` (a package's tracking number or reference) and ``raw``. A
        duplicate (same package, code and time) is absorbed by a UNIQUE constraint; an event
        older than the current status is kept as history without changing the status.
        """
        self.ensure_one()
        Milestone = self.env["logistics.sync.shipment.milestone"].sudo()
        created = Milestone.browse()
        packages = {}
        for package in self.package_ids:
            for key in (package.reference, package.tracking_number):
                if key:
                    packages[key] = package
        for event in sorted(events, key=lambda e: e["occurred_at"]):
            package = packages.get(event.get("package")) or Milestone.package_id.browse()
            created |= Milestone._insert(self, package, event, source)
        for milestone in created.sorted(lambda m: (m.occurred_at, m.id)):
            self._apply_milestone(milestone)
        return created

    def _apply_milestone(self, milestone):
        status = milestone.milestone
        for target in (self, milestone.package_id):
            if target and (not target.status_at or milestone.occurred_at >= target.status_at):
                target.write({"status": status, "status_at": milestone.occurred_at})
        values = {}
        if status in DISPATCHED:
            # the earliest hand-over known, announced once
            if not self.dispatched_at:
                self._emit("shipment.dispatched", milestone=milestone)
            if not self.dispatched_at or milestone.occurred_at < self.dispatched_at:
                values["dispatched_at"] = milestone.occurred_at
        if status == "delivered" and not self.delivered_at:
            values["delivered_at"] = milestone.occurred_at
            self._emit("shipment.delivered", milestone=milestone)
        if status == "delivery_failed":
            self._emit("shipment.delivery_failed", milestone=milestone, reason=milestone.reason)
        if values:
            self.write(values)

    @api.model
    def _tracking_event(self, system, data):
        """A carrier's tracking event (webhook or poll) as :meth:`_record_milestones` wants
        it; the code is mapped through the system's status code map (an unknown code is
        quarantined and raises ``UnknownCodeError``)."""
        milestone = (
            self.env["logistics.sync.code.map"].sudo()._to_canonical(system, "status", data["code"])
        )
        if milestone not in MILESTONE_CODES:
            raise UserError(
                _(
                    "%(system)s code '%(code)s' maps to '%(value)s', which is not a milestone "
                    "(%(known)s).",
                    system=system.name,
                    code=data["code"],
                    value=milestone,
                    known=", ".join(sorted(MILESTONE_CODES)),
                )
            )
        return {
            "milestone": milestone,
            "code": data["code"],
            "occurred_at": parse_datetime(data.get("occurred_at")) or fields.Datetime.now(),
            "location": data.get("location"),
            "latitude": data.get("latitude"),
            "longitude": data.get("longitude"),
            "reason": data.get("reason"),
            "package": data.get("package"),
            "raw": data,
        }

    def action_refresh_tracking(self):
        """Ask the carrier for the tracking of these shipments now (in the background)."""
        for shipment in self.filtered(lambda s: s.state == "booked"):
            shipment.with_delay(
                channel="root.logistics_sync.carrier", description=f"Tracking of {shipment.name}"
            ).poll_tracking()
        return True

    def poll_tracking(self):
        """Job: query the carrier for these shipments' tracking and proof of delivery."""
        return self._poll_tracking()

    def _poll_tracking(self):
        results = []
        for shipment in self:
            # what the carrier reports is its change, as when it pushes it: not echoed back
            shipment = shipment.with_context(logistics_sync_origin_system_id=shipment.system_id.id)
            try:
                answer = shipment.carrier_id._logistics_sync_call("get_tracking", shipment)
            except CarrierError as exc:
                results.append(f"{shipment.name}: {exc.reason}")
                _logger.info("Tracking poll of %s failed: %s", shipment.name, exc.reason)
                continue
            events = []
            for data in answer.get("events") or []:
                try:
                    events.append(self._tracking_event(shipment.system_id, data))
                except UnknownCodeError:
                    continue  # quarantined; applied by a later poll once mapped
            new = shipment._record_milestones(events, "poll")
            if answer.get("pod"):
                shipment._receive_pod(answer["pod"], "carrier")
            shipment.last_polled_at = fields.Datetime.now()
            results.append(f"{shipment.name}: {len(new)} new milestone(s)")
        return "\n".join(results)

    @api.model
    def _cron_poll_tracking(self, batch=200):
        """Every few minutes: for carrier systems that want polling and whose interval is
        over, enqueue one poll job for their open shipments (least recently polled first)."""
        now = fields.Datetime.now()
        systems = self.env["logistics.sync.system"].search(
            [("kind", "=", "carrier"), ("carrier_poll_minutes", ">", 0), ("state", "=", "active")]
        )
        started = 0
        for system in systems:
            if (
                system.carrier_last_poll_at
                and system.carrier_last_poll_at + timedelta(minutes=system.carrier_poll_minutes)
                > now
            ):
                continue
            shipments = self.search(
                [
                    ("system_id", "=", system.id),
                    ("state", "=", "booked"),
                    ("status", "not in", FINAL_STATUSES),
                ],
                order="last_polled_at asc nulls first, id",
                limit=batch,
            )
            system.carrier_last_poll_at = now
            if shipments:
                shipments.with_delay(
                    channel="root.logistics_sync.carrier",
                    description=f"Tracking poll of {system.code}",
                ).poll_tracking()
                started += 1
        return started

    # ------------------------------------------------------------------ proof of delivery
    def _receive_pod(self, data, source):
        """Record a proof of delivery the carrier reports (once per carrier POD id)."""
        self.ensure_one()
        return self.env["logistics.sync.pod"].sudo()._receive(self, data, source)

    @api.model
    def _cron_flag_late_pod(self):
        """Flag delivered shipments without proof of delivery after their carrier's delay."""
        now = fields.Datetime.now()
        flagged = self.browse()
        for system in self.env["logistics.sync.system"].search([("kind", "=", "carrier")]):
            flagged |= self.search(
                [
                    ("system_id", "=", system.id),
                    ("delivered_at", "!=", False),
                    ("delivered_at", "<", now - timedelta(hours=system.carrier_pod_delay_hours)),
                    ("pod_ids", "=", False),
                    ("pod_late", "=", False),
                ]
            )
        flagged.write({"pod_late": True})
        return len(flagged)

    # ------------------------------------------------------------------ helpers
    def _emit(self, type_code, status=None, milestone=None, reason=None):
        """Emit ``type_code`` about the transfer, with this shipment's canonical payload."""
        self.ensure_one()
        picking = self.picking_id
        records = self.env["logistics.sync.record"].sudo()
        payload = {
            "shipment_id": self.reference,
            "picking_id": records._canonical_id(picking),
            "carrier": self.system_id.code,
            "service": self.service or None,
            "tracking_number": self.tracking_number or None,
            "status": status or (milestone and milestone.milestone) or self.status or None,
            "occurred_at": fields.Datetime.to_string(
                milestone.occurred_at if milestone else fields.Datetime.now()
            ),
            "location": (milestone and milestone.location) or None,
            "reason": reason or None,
            "packages": [
                {
                    "reference": p.reference,
                    "tracking_number": p.tracking_number or None,
                    "label": bool(p.label_attachment_id),
                }
                for p in self.package_ids
            ],
        }
        return self.env["logistics.sync.event"].sudo()._emit(type_code, picking, payload)

    def _notify_responsible(self, summary, note):
        """An activity for the transfer's responsible (or whoever started the booking)."""
        self.ensure_one()
        user = self.picking_id.user_id or self.create_uid
        if user.share or not user.active:
            user = self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user
        self.picking_id.sudo().activity_schedule(
            "mail.mail_activity_data_warning", summary=summary, note=note, user_id=user.id
        )

    def action_print_labels(self):
        """Download every label of the shipment as one PDF."""
        self.ensure_one()
        labels = self.package_ids.label_attachment_id
        if not labels:
            raise UserError(_("No label yet for %s.", self.name))
        if len(labels) == 1:
            attachment = labels
        else:
            merged = pdf.merge_pdf([label.raw for label in labels])
            attachment = self.env["ir.attachment"].create(
                {
                    "name": f"Labels-{self.picking_id.name.replace('/', '_')}.pdf",
                    "raw": merged,
                    "mimetype": "application/pdf",
                    "res_model": "stock.picking",
                    "res_id": self.picking_id.id,
                }
            )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_open_saga(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "logistics.sync.saga",
            "res_id": self.saga_id.id,
            "view_mode": "form",
        }


def _reason_of(saga):
    """The carrier's reason from a run's error (``action 'book': <reason>``)."""
    error = saga.error or ""
    return error.split(": ", 1)[1] if ": " in error else error or _("unknown reason")
