from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

#: Hourly graphs cover this many days.
GRAPH_DAYS = 7
MANAGER_GROUP = "logistics_sync_core.group_logistics_sync_manager"


class LogisticsSyncDashboard(models.AbstractModel):
    """The figures of the monitor's dashboard (client action ``logistics_sync_dashboard``).

    Two pages: ``manager`` (the whole suite, managers only) and ``staff`` (what waits in the
    user's warehouses, through the exceptions' record rules). Each tile is a method listed
    in :meth:`_get_tiles` returning ``{"value": ..., "rows": [...], "action": ...}``; every
    figure comes from SQL aggregates or the hourly rollup, never from loading records.
    A tile whose source is not installed yet is a *slot*: shown, marked, without a number.
    """

    _name = "logistics.sync.dashboard"
    _description = "Logistics Sync Dashboard"

    @api.model
    def _get_tiles(self):
        """Return ``{page: [(key, title, method or None)]}``; ``None`` marks a slot for a
        source still to come. Extend with ``super()`` (insert, or replace a slot)."""
        return {
            "manager": [
                ("lag", _("Event lag (event written → delivered)"), "_tile_lag"),
                ("success", _("Delivery success rate, last 24 h"), "_tile_success"),
                ("duplicates", _("Duplicates absorbed, last 24 h"), "_tile_duplicates"),
                ("unacknowledged", _("Unacknowledged webhooks"), "_tile_unacknowledged"),
                ("dead", _("Dead letters"), "_tile_dead"),
                ("breakers", _("Tripped circuit breakers"), "_tile_breakers"),
                ("sagas", _("Stuck or failed sagas"), "_tile_sagas"),
                ("exceptions", _("Open exceptions"), "_tile_exceptions"),
                ("codes", _("Unknown codes in quarantine"), "_tile_codes"),
                ("parked", _("Parked changes to review"), "_tile_parked"),
                ("bookings", _("Failed or refused carrier bookings"), "_tile_bookings"),
                ("pod", _("Late proof of delivery"), "_tile_pod"),
                ("slow", _("Slow or silent shipments"), "_tile_slow"),
                (
                    "reconciliation",
                    _("Reconciliation differences to review"),
                    "_tile_reconciliation",
                ),
            ],
            "staff": [
                ("exceptions", _("Open exceptions in my warehouses"), "_tile_exceptions"),
                ("mine", _("Assigned to me"), "_tile_mine"),
                ("unassigned", _("Unassigned"), "_tile_unassigned"),
                ("by_kind", _("Open exceptions by kind"), "_tile_by_kind"),
                ("bookings", _("Failed or refused carrier bookings"), "_tile_bookings"),
                ("pod", _("Late proof of delivery"), "_tile_pod"),
                ("slow", _("Slow or silent shipments"), "_tile_slow"),
            ],
        }

    @api.model
    def get_data(self, page="staff"):
        """Everything the dashboard shows for ``page`` (one call)."""
        if page == "manager" and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("The manager dashboard is for Logistics Sync managers."))
        if page not in ("manager", "staff"):
            page = "staff"
        now = fields.Datetime.now()
        self.env.flush_all()
        tiles = []
        for key, title, method in self._get_tiles()[page]:
            tile = {"key": key, "title": title}
            if method:
                tile.update(getattr(self, method)(now, page))
            else:
                tile["slot"] = _("Arrives with the carrier and WMS sources (not built yet).")
            tiles.append(tile)
        return {
            "page": page,
            "generated_at": fields.Datetime.to_string(now),
            "tiles": tiles,
            "series": self._series(now, page),
        }

    # ------------------------------------------------------------------ helpers

    def _rows(self, query, params):
        self.env.cr.execute(query, params)
        return self.env.cr.fetchall()

    def _action(self, name, model, domain, view_mode="list,form", context=None):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "views": [[False, mode] for mode in view_mode.split(",")],
            "domain": domain,
            "context": context or {},
        }

    def _system_names(self):
        return dict(self._rows("SELECT id, name FROM logistics_sync_system", ()))

    # ------------------------------------------------------------------ manager tiles

    def _tile_lag(self, now, page):
        rows = self._rows(
            """
            SELECT flow_id, system_id,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY lag)
                       FILTER (WHERE delivered_at >= %(hour)s),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY lag)
                       FILTER (WHERE delivered_at >= %(hour)s),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY lag),
                   count(*) FILTER (WHERE delivered_at >= %(hour)s), count(*)
              FROM (SELECT m.flow_id, m.system_id, m.delivered_at,
                           greatest(extract(epoch FROM m.delivered_at - e.create_date), 0) AS lag
                      FROM logistics_sync_message m
                      JOIN logistics_sync_event e ON e.id = m.event_id
                     WHERE m.delivered_at >= %(day)s AND m.state = 'sent') d
             GROUP BY 1, 2
             ORDER BY 1
            """,
            {"hour": now - timedelta(hours=1), "day": now - timedelta(days=1)},
        )
        flows = dict(self._rows("SELECT id, name FROM logistics_sync_flow", ()))
        systems = self._system_names()

        def seconds(value):
            return round(value, 1) if value is not None else None

        table = [
            {
                "label": f"{flows.get(flow_id, '?')} → {systems.get(system_id, '?')}",
                "p50_hour": seconds(p50h),
                "p95_hour": seconds(p95h),
                "p50_day": seconds(p50d),
                "p95_day": seconds(p95d),
                "count_hour": count_hour,
                "count_day": count_day,
            }
            for flow_id, system_id, p50h, p95h, p50d, p95d, count_hour, count_day in rows
        ]
        worst = max((row["p95_day"] or 0 for row in table), default=None)
        return {
            "value": worst,
            "unit": "s",
            "caption": _("worst p95 over the last day"),
            "table": table,
            "action": self._action(
                _("Delivered in the last day"),
                "logistics.sync.message",
                [
                    ("state", "=", "sent"),
                    ("delivered_at", ">=", fields.Datetime.to_string(now - timedelta(days=1))),
                ],
            ),
        }

    def _tile_success(self, now, page):
        rows = self._rows(
            """
            SELECT m.system_id,
                   count(*) FILTER (WHERE a.attempted_at >= %(day)s AND a.outcome = 'delivered'),
                   count(*) FILTER (WHERE a.attempted_at >= %(day)s),
                   count(*) FILTER (WHERE a.attempted_at < %(day)s AND a.outcome = 'delivered'),
                   count(*) FILTER (WHERE a.attempted_at < %(day)s)
              FROM logistics_sync_message_attempt a
              JOIN logistics_sync_message m ON m.id = a.message_id
             WHERE a.attempted_at >= %(two_days)s
             GROUP BY 1
            """,
            {"day": now - timedelta(days=1), "two_days": now - timedelta(days=2)},
        )
        systems = self._system_names()

        def rate(ok, total):
            return round(100.0 * ok / total, 1) if total else None

        table = [
            {
                "label": systems.get(system_id, "?"),
                "rate": rate(ok, total),
                "previous": rate(ok_before, total_before),
                "attempts": total,
            }
            for system_id, ok, total, ok_before, total_before in rows
        ]
        ok = sum(r[1] for r in rows)
        total = sum(r[2] for r in rows)
        return {
            "value": rate(ok, total),
            "unit": "%",
            "previous": rate(sum(r[3] for r in rows), sum(r[4] for r in rows)),
            "caption": _("%s attempts", total),
            "table": table,
            "action": self._action(
                _("Undelivered messages"),
                "logistics.sync.message",
                [("state", "in", ("failed", "dead"))],
            ),
        }

    def _tile_duplicates(self, now, page):
        rows = self._rows(
            """
            SELECT direction,
                   count(*) FILTER (WHERE create_date >= %(day)s),
                   count(*) FILTER (WHERE create_date < %(day)s)
              FROM logistics_sync_edge_log
             WHERE outcome = 'duplicate' AND create_date >= %(two_days)s
             GROUP BY 1
            """,
            {"day": now - timedelta(days=1), "two_days": now - timedelta(days=2)},
        )
        by_direction = {direction: (today, before) for direction, today, before in rows}
        inbound, outbound = (
            by_direction.get("inbound", (0, 0)),
            by_direction.get("outbound", (0, 0)),
        )
        return {
            "value": inbound[0] + outbound[0],
            "previous": inbound[1] + outbound[1],
            "caption": _(
                "%(inbound)s inbound, %(outbound)s outbound",
                inbound=inbound[0],
                outbound=outbound[0],
            ),
            "action": self._action(
                _("Absorbed duplicates"),
                "logistics.sync.edge.log",
                [("outcome", "=", "duplicate")],
            ),
        }

    def _tile_unacknowledged(self, now, page):
        [(failed, late)] = self._rows(
            """
            SELECT count(*) FILTER (WHERE m.state = 'failed'),
                   count(*) FILTER (WHERE m.state = 'pending' AND m.deadline < %s)
              FROM logistics_sync_message m
              JOIN logistics_sync_flow f ON f.id = m.flow_id
             WHERE m.state IN ('pending', 'failed') AND f.transport != 'record'
            """,
            (now,),
        )
        return {
            "value": failed + late,
            "caption": _(
                "%(failed)s without a 2xx, %(late)s pending past their SLA",
                failed=failed,
                late=late,
            ),
            "status": "danger" if failed + late else "success",
            "action": self._action(
                _("Unacknowledged messages"),
                "logistics.sync.message",
                [
                    ("flow_id.transport", "!=", "record"),
                    "|",
                    ("state", "=", "failed"),
                    "&",
                    ("state", "=", "pending"),
                    ("deadline", "<", fields.Datetime.to_string(now)),
                ],
            ),
        }

    def _tile_dead(self, now, page):
        [(dead,)] = self._rows(
            "SELECT count(*) FROM logistics_sync_message WHERE state = 'dead'", ()
        )
        [(today, before)] = self._rows(
            """
            SELECT count(*) FILTER (WHERE attempted_at >= %(day)s),
                   count(*) FILTER (WHERE attempted_at < %(day)s)
              FROM logistics_sync_message_attempt
             WHERE outcome IN ('dead', 'refused') AND attempted_at >= %(two_days)s
            """,
            {"day": now - timedelta(days=1), "two_days": now - timedelta(days=2)},
        )
        return {
            "value": dead,
            "caption": _(
                "%(today)s dead-lettered in the last 24 h (%(before)s the day before)",
                today=today,
                before=before,
            ),
            "status": "danger" if dead else "success",
            "action": self._action(
                _("Dead-lettered messages"), "logistics.sync.message", [("state", "=", "dead")]
            ),
        }

    def _tile_breakers(self, now, page):
        [(flows,)] = self._rows(
            "SELECT count(*) FROM logistics_sync_flow WHERE active AND delivery_state = 'tripped'",
            (),
        )
        [(systems,)] = self._rows(
            "SELECT count(*) FROM logistics_sync_system WHERE active AND state = 'tripped'", ()
        )
        return {
            "value": flows + systems,
            "caption": _(
                "%(flows)s subscription(s), %(systems)s system(s)", flows=flows, systems=systems
            ),
            "status": "danger" if flows + systems else "success",
            "action": self._action(
                _("Tripped subscriptions"),
                "logistics.sync.flow",
                [("delivery_state", "=", "tripped")],
            ),
        }

    def _tile_sagas(self, now, page):
        [(failed, compensated, stuck)] = self._rows(
            """
            SELECT count(*) FILTER (WHERE state = 'failed'),
                   count(*) FILTER (WHERE state = 'compensated'),
                   count(*) FILTER (WHERE state IN ('running', 'compensating')
                                      AND write_date < %s)
              FROM logistics_sync_saga
             WHERE state IN ('failed', 'compensated', 'running', 'compensating')
            """,
            (now - timedelta(hours=1),),
        )
        return {
            "value": failed + stuck,
            "caption": _(
                "%(failed)s failed, %(stuck)s stuck over 1 h, %(compensated)s compensated",
                failed=failed,
                stuck=stuck,
                compensated=compensated,
            ),
            "status": "danger" if failed + stuck else "success",
            "action": self._action(
                _("Sagas needing attention"),
                "logistics.sync.saga",
                [
                    "|",
                    ("state", "in", ("failed", "compensated")),
                    "&",
                    ("state", "in", ("running", "compensating")),
                    ("write_date", "<", fields.Datetime.to_string(now - timedelta(hours=1))),
                ],
            ),
        }

    def _tile_exceptions(self, now, page):
        Exception = self.env["logistics.sync.exception"]
        domain = [("state", "in", ("new", "assigned"))]
        ages = [
            (_("under 1 h"), now - timedelta(hours=1), None),
            (_("1-24 h"), now - timedelta(days=1), now - timedelta(hours=1)),
            (_("1-7 days"), now - timedelta(days=7), now - timedelta(days=1)),
            (_("over 7 days"), None, now - timedelta(days=7)),
        ]
        by_age = []
        total = 0
        for label, after, before in ages:
            age_domain = list(domain)
            if after:
                age_domain.append(("first_seen", ">=", fields.Datetime.to_string(after)))
            if before:
                age_domain.append(("first_seen", "<", fields.Datetime.to_string(before)))
            count = Exception.search_count(age_domain)
            total += count
            by_age.append(
                {
                    "label": label,
                    "count": count,
                    "action": self._exception_action(label, age_domain),
                }
            )
        by_assignee = [
            {
                "label": user.name if user else _("Unassigned"),
                "count": count,
                "action": self._exception_action(
                    user.name if user else _("Unassigned"),
                    [*domain, ("user_id", "=", user.id or False)],
                ),
            }
            for user, count in Exception._read_group(
                domain, ["user_id"], ["__count"], order="__count desc", limit=8
            )
        ]
        opened = Exception.search_count(
            [("first_seen", ">=", fields.Datetime.to_string(now - timedelta(days=1)))]
        )
        opened_before = Exception.search_count(
            [
                ("first_seen", ">=", fields.Datetime.to_string(now - timedelta(days=2))),
                ("first_seen", "<", fields.Datetime.to_string(now - timedelta(days=1))),
            ]
        )
        return {
            "value": total,
            "caption": _(
                "%(opened)s opened in the last 24 h (%(before)s the day before)",
                opened=opened,
                before=opened_before,
            ),
            "status": "warning" if total else "success",
            "groups": [
                {"title": _("By age"), "rows": by_age},
                {"title": _("By assignee"), "rows": by_assignee},
            ],
            "action": self._exception_action(_("Open exceptions"), domain, kanban=True),
        }

    def _exception_action(self, name, domain, kanban=False):
        return self._action(
            name,
            "logistics.sync.exception",
            domain,
            view_mode="kanban,list,form" if kanban else "list,kanban,form",
        )

    def _tile_codes(self, now, page):
        [(count,)] = self._rows(
            "SELECT count(*) FROM logistics_sync_code_quarantine WHERE state = 'new'", ()
        )
        return {
            "value": count,
            "status": "warning" if count else "success",
            "action": self._action(
                _("Unknown codes"), "logistics.sync.code.quarantine", [("state", "=", "new")]
            ),
        }

    def _tile_parked(self, now, page):
        [(count,)] = self._rows(
            "SELECT count(*) FROM logistics_sync_parked_change WHERE state = 'pending'", ()
        )
        return {
            "value": count,
            "status": "warning" if count else "success",
            "action": self._action(
                _("Parked changes"), "logistics.sync.parked.change", [("state", "=", "pending")]
            ),
        }

    # ------------------------------------------------------------------ carrier tiles

    def _page_warehouses(self, page):
        """``None`` on the manager page (every warehouse), else the user's warehouse ids."""
        return None if page == "manager" else self.env.user.logistics_sync_warehouse_ids.ids

    def _tile_bookings(self, now, page):
        warehouses = self._page_warehouses(page)
        [(rejected, refused, rejected_day, rejected_before)] = self._rows(
            """
            SELECT count(*) FILTER (WHERE p.logistics_sync_booking_state = 'failed'),
                   count(*) FILTER (WHERE p.logistics_sync_booking_state = 'cancel_failed'),
                   (SELECT count(*) FROM logistics_sync_shipment
                     WHERE state = 'failed' AND create_date >= %(day)s),
                   (SELECT count(*) FROM logistics_sync_shipment
                     WHERE state = 'failed' AND create_date >= %(two_days)s
                       AND create_date < %(day)s)
              FROM stock_picking p
              JOIN stock_picking_type t ON t.id = p.picking_type_id
             WHERE p.logistics_sync_booking_state IN ('failed', 'cancel_failed')
               AND p.state != 'cancel'
               AND (%(all)s OR t.warehouse_id = ANY(%(warehouses)s))
            """,
            {
                "all": warehouses is None,
                "warehouses": warehouses or [],
                "day": now - timedelta(days=1),
                "two_days": now - timedelta(days=2),
            },
        )
        domain = [("state", "!=", "cancel")]
        if warehouses is not None:
            domain.append(("picking_type_id.warehouse_id", "in", warehouses))

        def action(name, states):
            return self._action(
                name, "stock.picking", [*domain, ("logistics_sync_booking_state", "in", states)]
            )

        return {
            "value": rejected + refused,
            "caption": _(
                "transfers whose last booking was rejected (%(rejected)s) or whose "
                "cancellation the carrier refused (%(refused)s)",
                rejected=rejected,
                refused=refused,
            ),
            "status": "danger" if rejected + refused else "success",
            "groups": [
                {
                    "title": _("Now"),
                    "rows": [
                        {
                            "label": _("Rejected"),
                            "count": rejected,
                            "action": action(_("Bookings rejected"), ["failed"]),
                        },
                        {
                            "label": _("Cancellation refused"),
                            "count": refused,
                            "action": action(_("Cancellations refused"), ["cancel_failed"]),
                        },
                    ],
                },
                {
                    "title": _("Rejections (every carrier)"),
                    "rows": [
                        {
                            "label": _("last 24 h"),
                            "count": rejected_day,
                            "action": self._action(
                                _("Rejected bookings, last 24 h"),
                                "logistics.sync.shipment",
                                [
                                    ("state", "=", "failed"),
                                    (
                                        "create_date",
                                        ">=",
                                        fields.Datetime.to_string(now - timedelta(days=1)),
                                    ),
                                ],
                            ),
                        },
                        {"label": _("the day before"), "count": rejected_before, "action": False},
                    ],
                },
            ],
            "action": action(_("Failed or refused bookings"), ["failed", "cancel_failed"]),
        }

    def _tile_pod(self, now, page):
        warehouses = self._page_warehouses(page)
        [(late, delivered)] = self._rows(
            """
            SELECT count(*) FILTER (WHERE s.pod_late),
                   count(*) FILTER (WHERE s.delivered_at >= %(day)s)
              FROM logistics_sync_shipment s
              JOIN stock_picking p ON p.id = s.picking_id
              JOIN stock_picking_type t ON t.id = p.picking_type_id
             WHERE (s.pod_late OR s.delivered_at >= %(day)s)
               AND (%(all)s OR t.warehouse_id = ANY(%(warehouses)s))
            """,
            {
                "all": warehouses is None,
                "warehouses": warehouses or [],
                "day": now - timedelta(days=1),
            },
        )
        domain = [("pod_late", "=", True)]
        if warehouses is not None:
            domain.append(("picking_id.picking_type_id.warehouse_id", "in", warehouses))
        return {
            "value": late,
            "caption": _(
                "delivered without proof of delivery past the carrier's delay; %(count)s "
                "delivered in the last 24 h",
                count=delivered,
            ),
            "status": "warning" if late else "success",
            "action": self._action(_("Late proofs of delivery"), "logistics.sync.shipment", domain),
        }

    def _tile_slow(self, now, page):
        domain = [
            ("state", "in", ("new", "assigned")),
            ("kind", "in", ("transit_anomaly", "scan_gap")),
        ]
        counts = dict(
            self.env["logistics.sync.exception"]._read_group(domain, ["kind"], ["__count"])
        )
        count = sum(counts.values())
        return {
            "value": count,
            "caption": _(
                "%(slow)s on their way longer than their lane's median + k × MAD, "
                "%(silent)s without a tracking scan for longer than usual",
                slow=counts.get("transit_anomaly", 0),
                silent=counts.get("scan_gap", 0),
            ),
            "status": "warning" if count else "success",
            "action": self._exception_action(_("Slow or silent shipments"), domain),
        }

    def _tile_reconciliation(self, now, page):
        [(lines, reconciliations, value)] = self._rows(
            """
            SELECT count(*), count(DISTINCT l.reconciliation_id), COALESCE(sum(l.abs_value), 0)
              FROM logistics_sync_inventory_reconciliation_line l
              JOIN logistics_sync_inventory_reconciliation r ON r.id = l.reconciliation_id
             WHERE l.status = 'review' AND l.state = 'pending'
               AND r.state IN ('review', 'applying')
            """,
            (),
        )
        return {
            "value": lines,
            "caption": _(
                "lines beyond tolerance in %(count)s reconciliation(s), %(value)s at stake",
                count=reconciliations,
                value=round(value, 2),
            ),
            "status": "warning" if lines else "success",
            "action": self._action(
                _("Differences to review"),
                "logistics.sync.inventory.reconciliation.line",
                [
                    ("status", "=", "review"),
                    ("state", "=", "pending"),
                    ("reconciliation_id.state", "in", ("review", "applying")),
                ],
            ),
        }

    # ------------------------------------------------------------------ staff tiles

    def _tile_mine(self, now, page):
        domain = [("state", "in", ("new", "assigned")), ("user_id", "=", self.env.uid)]
        count = self.env["logistics.sync.exception"].search_count(domain)
        return {"value": count, "action": self._exception_action(_("My exceptions"), domain)}

    def _tile_unassigned(self, now, page):
        domain = [("state", "=", "new"), ("user_id", "=", False)]
        count = self.env["logistics.sync.exception"].search_count(domain)
        return {
            "value": count,
            "status": "warning" if count else "success",
            "action": self._exception_action(_("Unassigned exceptions"), domain),
        }

    def _tile_by_kind(self, now, page):
        Exception = self.env["logistics.sync.exception"]
        kinds = dict(Exception._selection_kind())
        domain = [("state", "in", ("new", "assigned"))]
        rows = [
            {
                "label": kinds.get(kind, kind),
                "count": count,
                "action": self._exception_action(
                    kinds.get(kind, kind), [*domain, ("kind", "=", kind)]
                ),
            }
            for kind, count in Exception._read_group(
                domain, ["kind"], ["__count"], order="__count desc"
            )
        ]
        return {
            "value": sum(row["count"] for row in rows),
            "groups": [{"title": _("By kind"), "rows": rows}],
            "action": self._exception_action(_("Open exceptions"), domain),
        }

    # ------------------------------------------------------------------ graphs

    def _series(self, now, page):
        """Hourly series over the last days: ``{"hours": [...], "lines": [{label, data}]}``
        per graph."""
        since = (now - timedelta(days=GRAPH_DAYS)).replace(minute=0, second=0, microsecond=0)
        hours = []
        moment = since
        while moment <= now:
            hours.append(moment)
            moment += timedelta(hours=1)
        index = {hour: position for position, hour in enumerate(hours)}

        def line(label, counts):
            data = [0] * len(hours)
            for hour, count in counts:
                if hour in index:
                    data[index[hour]] += count
            return {"label": label, "data": data}

        labels = [fields.Datetime.to_string(hour) for hour in hours]
        if page == "staff":
            groups = (
                self.env["logistics.sync.exception"]
                .with_context(tz="UTC")
                ._read_group(
                    [("first_seen", ">=", fields.Datetime.to_string(since))],
                    ["first_seen:hour"],
                    ["__count"],
                )
            )
            counts = [(hour.replace(tzinfo=None), count) for hour, count in groups]
            return [
                {
                    "key": "exceptions",
                    "title": _("Exceptions opened per hour in my warehouses"),
                    "labels": labels,
                    "lines": [line(_("Opened"), counts)],
                }
            ]
        Rollup = self.env["logistics.sync.monitor.rollup"]

        def by_label(metric, names=None, total=None):
            """One line per label (named by ``names``), or one line ``total``."""
            grouped = {}
            for (hour, _system, label), (count, _sum) in Rollup._series(metric, since, now).items():
                name = total or (names or {}).get(label, label)
                grouped.setdefault(name, []).append((hour, count))
            return [line(name, counts) for name, counts in sorted(grouped.items())]

        attempts = {}
        for (hour, _system, outcome), (count, _total) in Rollup._series(
            "attempt", since, now
        ).items():
            key = _("Delivered") if outcome == "delivered" else _("Not delivered")
            attempts.setdefault(key, []).append((hour, count))
        milestones = dict(
            self.env["logistics.sync.shipment.milestone"]._fields["milestone"].selection
        )
        carrier_milestones = {}
        for hour, milestone, count in self._rows(
            """
            SELECT date_trunc('hour', occurred_at), milestone, count(*)
              FROM logistics_sync_shipment_milestone
             WHERE occurred_at >= %s AND occurred_at <= %s
             GROUP BY 1, 2
            """,
            (since, now),
        ):
            carrier_milestones.setdefault(milestones.get(milestone, milestone), []).append(
                (hour, count)
            )
        return [
            {
                "key": "milestones",
                "title": _("Carrier tracking milestones per hour"),
                "labels": labels,
                "lines": [
                    line(name, counts) for name, counts in sorted(carrier_milestones.items())
                ],
            },
            {
                "key": "events",
                "title": _("Events per hour"),
                "labels": labels,
                "lines": by_label("event", total=_("Events")),
            },
            {
                "key": "attempts",
                "title": _("Delivery attempts per hour"),
                "labels": labels,
                "lines": [line(name, counts) for name, counts in sorted(attempts.items())],
            },
            {
                "key": "inbound",
                "title": _("Inbound webhooks per hour"),
                "labels": labels,
                "lines": by_label(
                    "inbound",
                    names={
                        "accepted": _("Accepted"),
                        "duplicate": _("Duplicate"),
                        "refused": _("Refused"),
                    },
                ),
            },
            {
                "key": "exceptions",
                "title": _("Exceptions opened per hour"),
                "labels": labels,
                "lines": by_label(
                    "exception", names=dict(self.env["logistics.sync.exception"]._selection_kind())
                ),
            },
        ]
