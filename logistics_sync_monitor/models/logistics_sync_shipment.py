from datetime import timedelta

from odoo import _, api, fields, models


class LogisticsSyncShipment(models.Model):
    """Carrier shipments feed the desk with four problems, each its own exception:

    - ``booking_failed``: the carrier rejected the booking of a transfer. One exception per
      transfer: a fallback carrier rejecting it too counts one more occurrence; a booking
      that succeeds later (retry or fallback) resolves it.
    - ``cancel_refused``: the carrier refused to cancel (or to undo) a booking; resolved
      once the shipment is cancelled.
    - ``delivery_failed``: the carrier reported a failed delivery; each new failed attempt
      counts; resolved when the shipment is delivered.
    - ``pod_late``: delivered without proof of delivery after the carrier's delay; resolved
      when the proof arrives.
    - ``transit_anomaly`` (opened by ``logistics.sync.transit``'s cron): resolved once the
      shipment is delivered, returned or no longer booked.
    - ``scan_gap`` (opened by ``logistics.sync.transit``'s cron): no tracking scan for
      longer than usual; resolved by the next scan or when the journey ends.

    Each shipment also has a *lane* (where from, where to) and, on its way, an ETA predicted
    from the lane's history and the time since its last tracking scan against the lane's
    usual gap (see ``logistics.sync.transit``).
    """

    _name = "logistics.sync.shipment"
    _inherit = ["logistics.sync.shipment", "logistics.sync.exception.source"]

    _exception_trigger_fields = ("state", "status", "pod_late")

    transit_lane = fields.Char(
        compute="_compute_transit_lane",
        store=True,
        index=True,
        help="The warehouse shipped from, then the destination country and the first two "
        "characters of its postcode: shipments of one carrier on one lane make the transit "
        "statistics behind slow-shipment flags and ETAs.",
    )
    eta_at = fields.Datetime(
        string="Expected delivery",
        compute="_compute_eta",
        help="Handed over to the carrier + the lane's median transit time.",
    )
    eta_latest_at = fields.Datetime(
        string="Expected at the latest",
        compute="_compute_eta",
        help="Handed over to the carrier + the lane's 90th percentile transit time.",
    )
    eta_basis = fields.Char(
        string="ETA basis",
        compute="_compute_eta",
        help="The history the prediction comes from, or why there is none.",
    )

    scan_silence_hours = fields.Float(
        string="Hours since the last scan",
        compute="_compute_scan_gap",
        digits=(16, 1),
        help="On its way: hours since the carrier's last tracking report (or the booking, "
        "before any).",
    )
    scan_threshold_hours = fields.Float(
        string="Usual scan gap at most (hours)",
        compute="_compute_scan_gap",
        digits=(16, 1),
        help="The lane's median + k × MAD of the gaps between tracking scans, or the "
        "carrier's 'scan at least every' while the lane's history is too thin.",
    )
    scan_overdue = fields.Boolean(
        string="No scan for longer than usual",
        compute="_compute_scan_gap",
        help="More hours since the last scan than the usual gap at most.",
    )
    scan_basis = fields.Char(
        string="Scan gap basis",
        compute="_compute_scan_gap",
        help="The figures behind the usual scan gap: which basis applies, median gap, MAD, "
        "threshold and sample.",
    )

    @api.depends(
        "state", "status", "status_at", "booked_at", "delivered_at", "transit_lane", "system_id"
    )
    def _compute_scan_gap(self):
        Transit = self.env["logistics.sync.transit"].sudo()
        # figures for anyone who may read the shipment (the carrier system is not theirs)
        silences = Transit._scan_silences(self.sudo(), fields.Datetime.now())
        for shipment in self:
            silence = silences.get(shipment.id)
            if not silence:
                shipment.update(
                    {
                        "scan_silence_hours": 0.0,
                        "scan_threshold_hours": 0.0,
                        "scan_overdue": False,
                        "scan_basis": False,
                    }
                )
                continue
            shipment.update(
                {
                    "scan_silence_hours": silence["hours"],
                    "scan_threshold_hours": silence["threshold"] or 0.0,
                    "scan_overdue": silence["overdue"],
                    "scan_basis": silence["basis"],
                }
            )

    @api.depends("picking_id")
    def _compute_transit_lane(self):
        # set once from the transfer: a customer moving later does not rewrite history
        for shipment in self:
            picking = shipment.picking_id
            warehouse = picking.picking_type_id.warehouse_id
            partner = picking.partner_id
            if not (warehouse and partner.country_id):
                shipment.transit_lane = False
                continue
            destination = partner.country_id.code
            if partner.zip:
                destination += "-" + partner.zip.replace(" ", "")[:2].upper()
            shipment.transit_lane = f"{warehouse.code} → {destination}"

    @api.depends("dispatched_at", "delivered_at", "transit_lane", "system_id", "state")
    def _compute_eta(self):
        moving = self.filtered(
            lambda s: s.state == "booked" and s.dispatched_at and not s.delivered_at
        )
        (self - moving).update({"eta_at": False, "eta_latest_at": False, "eta_basis": False})
        if not moving:
            return
        Transit = self.env["logistics.sync.transit"].sudo()
        stats = Transit._lane_stats(fields.Datetime.now(), moving.system_id)
        for shipment in moving:
            lane = stats.get((shipment.system_id.id, shipment.transit_lane))
            # the figures for anyone who may read the shipment (the carrier system is not
            # theirs to read)
            system = shipment.system_id.sudo()
            if not shipment.transit_lane:
                basis = _("No lane (the warehouse or the destination country is missing).")
            elif not lane or not lane["enough"]:
                basis = _(
                    "No prediction: %(n)s delivered shipment(s) on lane %(lane)s with "
                    "%(carrier)s in the last %(days)s days, %(needed)s needed.",
                    n=lane["n"] if lane else 0,
                    lane=shipment.transit_lane,
                    carrier=system.name,
                    days=system.monitor_history_days,
                    needed=system.monitor_anomaly_min_sample,
                )
            else:
                shipment.eta_at = shipment.dispatched_at + timedelta(hours=lane["median"])
                shipment.eta_latest_at = shipment.dispatched_at + timedelta(hours=lane["p90"])
                shipment.eta_basis = Transit._basis(shipment.sudo(), lane)
                continue
            shipment.update({"eta_at": False, "eta_latest_at": False, "eta_basis": basis})

    def _exception_concerns(self):
        self.ensure_one()
        return [
            {
                "kind": "booking_failed",
                "key": f"booking_failed:{self.picking_id.id}",
                "needed": self._booking_problem(),
                "values": self._booking_exception_values,
                "note": _("A booking of this transfer succeeded."),
                "fields": ("state",),
            },
            {
                "kind": "cancel_refused",
                "key": f"cancel_refused:{self.id}",
                "needed": True
                if self.state == "cancel_failed"
                else (False if self.state in ("cancelled", "booked") else None),
                "values": self._cancel_exception_values,
                "note": _("The booking is cancelled at the carrier."),
                "fields": ("state",),
            },
            {
                "kind": "delivery_failed",
                "key": f"delivery_failed:{self.id}",
                "needed": True
                if self.status == "delivery_failed"
                else (False if self.status == "delivered" else None),
                "values": self._delivery_exception_values,
                "note": _("Delivered after all."),
                "fields": ("status",),
            },
            {
                "kind": "pod_late",
                "key": f"pod_late:{self.id}",
                "needed": True if self.pod_late else (False if self.pod_ids else None),
                "values": self._pod_exception_values,
                "note": _("The proof of delivery was received."),
                "fields": ("pod_late",),
            },
            {
                "kind": "transit_anomaly",
                "key": f"transit_anomaly:{self.id}",
                # opened by the transit cron; ended here as soon as the journey ends
                "needed": False
                if self.state != "booked" or self.status in ("delivered", "returned")
                else None,
                "values": dict,
                "note": _("The shipment is no longer on its way."),
                "fields": ("state", "status"),
            },
            {
                "kind": "scan_gap",
                "key": f"scan_gap:{self.id}",
                # opened by the transit cron; a new scan resolves it (see write)
                "needed": False
                if self.state != "booked" or self.status in ("delivered", "returned")
                else None,
                "values": dict,
                "note": _("The shipment is no longer on its way."),
                "fields": ("state", "status"),
            },
        ]

    def write(self, vals):
        result = super().write(vals)
        if vals.get("status_at"):
            # a tracking report ends the silence: no need to wait for the hourly cron
            self.env["logistics.sync.exception"].sudo()._resolve(
                [f"scan_gap:{shipment.id}" for shipment in self],
                _("A tracking scan arrived."),
            )
        return result

    def _booking_problem(self):
        """``True`` while this rejected booking is the transfer's last word, ``False`` once
        this or a later booking of the transfer succeeded."""
        if self.state == "booked":
            return False
        if self.state != "failed" or self.cancel_requested:
            return None
        later = self.picking_id.logistics_sync_shipment_ids.filtered(
            lambda s: s.id > self.id and s.booked_at
        )
        return not later

    def _exception_common(self, severity):
        return {"system_id": self.system_id.id, **self._exception_links(self.picking_id, severity)}

    def _booking_exception_values(self):
        return {
            "name": _(
                "%(picking)s: %(carrier)s rejected the booking",
                picking=self.picking_id.name,
                carrier=self.carrier_id.name,
            ),
            "detail": self.failure_reason or False,
            **self._exception_common("high"),
        }

    def _cancel_exception_values(self):
        return {
            "name": _(
                "%(picking)s: %(carrier)s keeps the booking (cancellation refused)",
                picking=self.picking_id.name,
                carrier=self.carrier_id.name,
            ),
            "detail": self.failure_reason or False,
            **self._exception_common("high"),
        }

    def _delivery_exception_values(self):
        failures = self.milestone_ids.filtered(lambda m: m.milestone == "delivery_failed")
        latest = failures.sorted(lambda m: (m.occurred_at, m.id))[-1:]
        return {
            "name": _(
                "%(picking)s: delivery failed (%(carrier)s)",
                picking=self.picking_id.name,
                carrier=self.carrier_id.name,
            ),
            "detail": _(
                "%(count)s failed delivery attempt(s); latest on %(when)s UTC%(place)s: "
                "%(reason)s",
                count=len(failures),
                when=latest.occurred_at or "?",
                place=f" at {latest.location}" if latest.location else "",
                reason=latest.reason or _("no reason given"),
            ),
            **self._exception_common("high"),
        }

    def _pod_exception_values(self):
        return {
            "name": _(
                "%(picking)s: no proof of delivery from %(carrier)s",
                picking=self.picking_id.name,
                carrier=self.carrier_id.name,
            ),
            "detail": _(
                "Delivered on %(when)s UTC; proof of delivery expected within %(hours)s hour(s).",
                when=self.delivered_at,
                hours=self.system_id.carrier_pod_delay_hours,
            ),
            **self._exception_common("medium"),
        }

    def _exception_retry_booking(self):
        """Book the transfer again (its shipping method, possibly changed meanwhile)."""
        return self.picking_id.action_logistics_sync_book()

    def _exception_retry_cancel(self):
        """Ask the carrier again to cancel the booking."""
        return self.action_cancel_booking()
