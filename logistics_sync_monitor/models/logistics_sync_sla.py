from datetime import timedelta

from odoo import _, api, fields, models

#: Milestone SLAs look at records of the last days only (older ones are history, not alerts).
MILESTONE_LOOKBACK_DAYS = 30


class LogisticsSyncSla(models.AbstractModel):
    """SLA alerts: a cron runs every registered check; each breach opens (or keeps open) one
    exception of kind ``sla_breach``, whose responsible people are notified (activity and
    e-mail) and which emits the canonical event ``sla.breached`` once per breach, so an
    alerting endpoint can subscribe to it. A breach no longer reported is resolved.

    A check is a method returning the breaches found at ``now``, each a dict::

        {"key": "sla:flow:12",            # the same breach keeps the same key
         "values": {...},                  # exception values (logistics.sync.exception._open)
         "payload": {...}}                 # extra fields of the sla.breached payload

    registered in :meth:`_get_sla_checks` (extend with ``super()``); the keys of a check
    must start with ``sla:<code>:``.
    """

    _name = "logistics.sync.sla"
    _description = "Logistics Sync SLA Checks"

    @api.model
    def _get_sla_checks(self):
        """Return ``{code: method name}``."""
        return {
            "flow": "_sla_check_flow",
            "booking": "_sla_check_booking",
            "pod": "_sla_check_pod",
            "scan": "_sla_check_scan",
            "wms_confirmation": "_sla_check_wms_confirmation",
        }

    @api.model
    def _cron_check(self):
        """Run every check; return ``{code: number of breaches}``."""
        now = fields.Datetime.now()
        Exception = self.env["logistics.sync.exception"].sudo()
        found = {}
        for code, method in self._get_sla_checks().items():
            breaches = getattr(self, method)(now)
            found[code] = len(breaches)
            keys = set()
            for breach in breaches:
                keys.add(breach["key"])
                exception, status = Exception._open(
                    "sla_breach",
                    breach["key"],
                    {"severity": "high", **breach["values"]},
                    count=False,
                )
                if status in ("opened", "reopened"):
                    self._announce(exception, code, breach, now)
            Exception._resolve_all_but(
                "sla_breach", keys, _("The SLA is met again."), key_prefix=f"sla:{code}:"
            )
        return found

    @api.model
    def _announce(self, exception, code, breach, now):
        """Notify the responsible people and emit ``sla.breached``."""
        exception._notify_responsible(
            _("SLA breached: %s", exception.name), exception.detail or exception.name
        )
        system = exception.system_id
        self.env["logistics.sync.event"]._emit(
            "sla.breached",
            exception,
            {
                "sla": code,
                "exception_id": exception.id,
                "summary": exception.name,
                "severity": exception.severity,
                "system": system.code or None,
                "warehouse": exception.warehouse_id.code or None,
                "detected_at": fields.Datetime.to_string(now) + "Z",
                "detail": exception.detail or None,
                **breach.get("payload", {}),
            },
        )

    # ------------------------------------------------------------------ checks

    @api.model
    def _sla_check_flow(self, now):
        """Flows whose messages wait past their deadline (pending or failing), one breach
        per flow with the count and the oldest deadline. Record-only flows never deliver:
        they have no SLA to breach."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT m.flow_id, count(*), min(m.deadline)
              FROM logistics_sync_message m
              JOIN logistics_sync_flow f ON f.id = m.flow_id
             WHERE m.state IN ('pending', 'failed') AND m.deadline < %s
               AND f.transport != 'record'
             GROUP BY m.flow_id
            """,
            (now,),
        )
        Flow = self.env["logistics.sync.flow"].sudo()
        Exception = self.env["logistics.sync.exception"]
        breaches = []
        for flow_id, count, oldest in self.env.cr.fetchall():
            flow = Flow.browse(flow_id)
            late_minutes = int((now - oldest).total_seconds() // 60)
            breaches.append(
                {
                    "key": f"sla:flow:{flow_id}",
                    "values": {
                        "name": _(
                            "%(flow)s: messages undelivered past the %(sla)s-minute SLA",
                            flow=flow.name,
                            sla=flow.sla_minutes,
                        ),
                        "system_id": flow.system_id.id,
                        "company_id": flow.company_id.id or False,
                        "detail": _(
                            "%(count)s message(s) past their deadline; the oldest deadline "
                            "passed %(minutes)s minute(s) ago (%(oldest)s UTC).",
                            count=count,
                            minutes=late_minutes,
                            oldest=fields.Datetime.to_string(oldest),
                        ),
                        **Exception._record_values(flow, "source"),
                    },
                    "payload": {
                        "flow": flow.name,
                        "late_messages": count,
                        "oldest_deadline": fields.Datetime.to_string(oldest) + "Z",
                    },
                }
            )
        return breaches

    # ------------------------------------------------------------------ milestone checks

    def _milestone_breaches(self, code, now, rows, name, detail):
        """Breaches of a milestone SLA from ``rows`` of ``(system id, warehouse id, count,
        oldest deadline)``: one per carrier and warehouse. ``name`` and ``detail`` are
        callables ``(system, warehouse, count, oldest, minutes late)`` -> text."""
        System = self.env["logistics.sync.system"].sudo()
        Warehouse = self.env["stock.warehouse"].sudo()
        breaches = []
        for system_id, warehouse_id, count, oldest in rows:
            system, warehouse = System.browse(system_id), Warehouse.browse(warehouse_id)
            late = int((now - oldest).total_seconds() // 60)
            breaches.append(
                {
                    "key": f"sla:{code}:{system_id}:{warehouse_id or 0}",
                    "values": {
                        "name": name(system, warehouse, count),
                        "detail": detail(system, warehouse, count, oldest, late),
                        "system_id": system.id,
                        "warehouse_id": warehouse.id or False,
                        "company_id": warehouse.company_id.id or system.company_id.id or False,
                        **self.env["logistics.sync.exception"]._record_values(system, "source"),
                    },
                    "payload": {
                        "late_records": count,
                        "oldest_deadline": fields.Datetime.to_string(oldest) + "Z",
                    },
                }
            )
        return breaches

    @api.model
    def _sla_check_booking(self, now):
        """Transfers validated with a carrier's shipping method and still not booked past
        the carrier's 'booked within' delay (a booking cancelled on purpose is no breach)."""
        self.env.flush_all()
        rows = self._rows_of(
            """
            SELECT y.id, t.warehouse_id, count(*),
                   min(p.date_done + make_interval(mins => y.monitor_sla_booking_minutes))
              FROM stock_picking p
              JOIN stock_picking_type t ON t.id = p.picking_type_id
              JOIN delivery_carrier c ON c.id = p.carrier_id
              JOIN logistics_sync_system y ON y.id = c.logistics_sync_system_id
             WHERE p.state = 'done' AND t.code = 'outgoing' AND y.active
               AND y.kind = 'carrier' AND y.monitor_sla_booking_minutes > 0
               AND p.date_done >= %(since)s
               AND p.date_done + make_interval(mins => y.monitor_sla_booking_minutes) < %(now)s
               AND NOT EXISTS (
                   SELECT 1 FROM logistics_sync_shipment s
                    WHERE s.picking_id = p.id
                      AND (s.booked_at IS NOT NULL OR s.cancel_requested))
             GROUP BY 1, 2
            """,
            now,
        )
        return self._milestone_breaches(
            "booking",
            now,
            rows,
            lambda system, warehouse, count: self.env._(
                "%(carrier)s%(warehouse)s: validated transfers not booked in time",
                carrier=system.name,
                warehouse=f" / {warehouse.code}" if warehouse else "",
            ),
            lambda system, warehouse, count, oldest, late: self.env._(
                "%(count)s transfer(s) validated and not booked within %(minutes)s minute(s); "
                "the oldest deadline passed %(late)s minute(s) ago (%(oldest)s UTC).",
                count=count,
                minutes=system.monitor_sla_booking_minutes,
                late=late,
                oldest=fields.Datetime.to_string(oldest),
            ),
        )

    @api.model
    def _sla_check_pod(self, now):
        """Delivered shipments without proof of delivery past the carrier's 'POD within'."""
        self.env.flush_all()
        rows = self._rows_of(
            """
            SELECT y.id, t.warehouse_id, count(*),
                   min(s.delivered_at + make_interval(hours => y.monitor_sla_pod_hours))
              FROM logistics_sync_shipment s
              JOIN logistics_sync_system y ON y.id = s.system_id
              JOIN stock_picking p ON p.id = s.picking_id
              JOIN stock_picking_type t ON t.id = p.picking_type_id
             WHERE s.delivered_at >= %(since)s AND y.active AND y.monitor_sla_pod_hours > 0
               AND s.delivered_at + make_interval(hours => y.monitor_sla_pod_hours) < %(now)s
               AND NOT EXISTS (SELECT 1 FROM logistics_sync_pod d WHERE d.shipment_id = s.id)
             GROUP BY 1, 2
            """,
            now,
        )
        return self._milestone_breaches(
            "pod",
            now,
            rows,
            lambda system, warehouse, count: self.env._(
                "%(carrier)s%(warehouse)s: proofs of delivery overdue",
                carrier=system.name,
                warehouse=f" / {warehouse.code}" if warehouse else "",
            ),
            lambda system, warehouse, count, oldest, late: self.env._(
                "%(count)s delivered shipment(s) without proof of delivery after %(hours)s "
                "hour(s); the oldest deadline passed %(late)s minute(s) ago (%(oldest)s UTC).",
                count=count,
                hours=system.monitor_sla_pod_hours,
                late=late,
                oldest=fields.Datetime.to_string(oldest),
            ),
        )

    @api.model
    def _sla_check_scan(self, now):
        """Booked shipments, not delivered nor returned, whose newest tracking scan (or the
        booking, before any scan) is older than the carrier's 'scan at least every'."""
        self.env.flush_all()
        rows = self._rows_of(
            """
            SELECT y.id, t.warehouse_id, count(*),
                   min(coalesce(s.status_at, s.booked_at)
                       + make_interval(hours => y.monitor_sla_scan_hours))
              FROM logistics_sync_shipment s
              JOIN logistics_sync_system y ON y.id = s.system_id
              JOIN stock_picking p ON p.id = s.picking_id
              JOIN stock_picking_type t ON t.id = p.picking_type_id
             WHERE s.state = 'booked' AND s.booked_at >= %(since)s
               AND (s.status IS NULL OR s.status NOT IN ('delivered', 'returned'))
               AND y.active AND y.monitor_sla_scan_hours > 0
               AND coalesce(s.status_at, s.booked_at)
                   + make_interval(hours => y.monitor_sla_scan_hours) < %(now)s
             GROUP BY 1, 2
            """,
            now,
        )
        return self._milestone_breaches(
            "scan",
            now,
            rows,
            lambda system, warehouse, count: self.env._(
                "%(carrier)s%(warehouse)s: shipments without tracking scan",
                carrier=system.name,
                warehouse=f" / {warehouse.code}" if warehouse else "",
            ),
            lambda system, warehouse, count, oldest, late: self.env._(
                "%(count)s shipment(s) without a tracking scan for over %(hours)s hour(s); "
                "the oldest deadline passed %(late)s minute(s) ago (%(oldest)s UTC).",
                count=count,
                hours=system.monitor_sla_scan_hours,
                late=late,
                oldest=fields.Datetime.to_string(oldest),
            ),
        )

    @api.model
    def _sla_check_wms_confirmation(self, now):
        """Fulfilment requests without any pick, pack or ship confirmation applied past
        their WMS's 'confirmed within' delay (cancelled ones excepted)."""
        self.env.flush_all()
        rows = self._rows_of(
            """
            SELECT y.id, f.warehouse_id, count(*),
                   min(f.requested_at + make_interval(mins => y.monitor_sla_wms_minutes))
              FROM logistics_sync_wms_fulfilment f
              JOIN logistics_sync_system y ON y.id = f.system_id
             WHERE f.state IN ('requested', 'reserved', 'shortage', 'error')
               AND f.requested_at >= %(since)s AND y.active
               AND y.monitor_sla_wms_minutes > 0
               AND f.requested_at + make_interval(mins => y.monitor_sla_wms_minutes) < %(now)s
               AND NOT EXISTS (
                   SELECT 1 FROM logistics_sync_wms_confirmation c
                    WHERE c.fulfilment_id = f.id AND c.kind = 'confirmation'
                      AND c.state = 'applied')
             GROUP BY 1, 2
            """,
            now,
        )
        return self._milestone_breaches(
            "wms_confirmation",
            now,
            rows,
            lambda system, warehouse, count: self.env._(
                "%(system)s%(warehouse)s: fulfilment requests not confirmed in time",
                system=system.name,
                warehouse=f" / {warehouse.code}" if warehouse else "",
            ),
            lambda system, warehouse, count, oldest, late: self.env._(
                "%(count)s fulfilment request(s) without a pick, pack or ship confirmation "
                "within %(minutes)s minute(s); the oldest deadline passed %(late)s minute(s) "
                "ago (%(oldest)s UTC).",
                count=count,
                minutes=system.monitor_sla_wms_minutes,
                late=late,
                oldest=fields.Datetime.to_string(oldest),
            ),
        )

    def _rows_of(self, query, now):
        self.env.cr.execute(
            query, {"now": now, "since": now - timedelta(days=MILESTONE_LOOKBACK_DAYS)}
        )
        return self.env.cr.fetchall()
