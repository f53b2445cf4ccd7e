from odoo import _, api, fields, models

#: Transit statistics of every lane: the delivered shipments of each carrier's history window,
#: their count, median, 10th and 90th percentiles and MAD (median absolute deviation from
#: the median), all computed by PostgreSQL. Hours from the first hand-over to the carrier
#: (``dispatched_at``) to the delivery.
LANE_STATS = """
    WITH history AS (
        SELECT s.system_id, s.transit_lane AS lane,
               extract(epoch FROM s.delivered_at - s.dispatched_at) / 3600.0 AS hours
          FROM logistics_sync_shipment s
          JOIN logistics_sync_system y ON y.id = s.system_id
         WHERE s.delivered_at IS NOT NULL AND s.dispatched_at IS NOT NULL
           AND s.delivered_at >= s.dispatched_at AND s.transit_lane IS NOT NULL
           AND s.delivered_at <= %(now)s
           AND s.delivered_at >= %(now)s - make_interval(days => y.monitor_history_days)
           AND s.system_id = ANY(%(systems)s)
    ), centre AS (
        SELECT system_id, lane, count(*) AS n,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS median,
               percentile_cont(0.1) WITHIN GROUP (ORDER BY hours) AS p10,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90
          FROM history
         GROUP BY 1, 2
    )
    SELECT c.system_id, c.lane, c.n, c.median, c.p10, c.p90,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(h.hours - c.median)) AS mad,
           y.monitor_anomaly_k, y.monitor_anomaly_min_sample, y.monitor_history_days
      FROM centre c
      JOIN history h ON h.system_id = c.system_id AND h.lane = c.lane
      JOIN logistics_sync_system y ON y.id = c.system_id
     GROUP BY c.system_id, c.lane, c.n, c.median, c.p10, c.p90, y.id
"""

#: Scan-gap statistics of every lane: the hours between consecutive tracking reports of the
#: delivered shipments of each carrier's history window, from the booking to the delivery
#: (the booking counts as the first report, so the wait for the first scan is a gap too;
#: reports at the same moment, such as several parcels scanned together, count once).
#: Their count, the number of shipments they come from, median and MAD, computed by
#: PostgreSQL. ``%(lanes)s`` limits the lanes (``NULL``: every lane).
SCAN_GAP_STATS = """
    WITH finished AS (
        SELECT s.id, s.system_id, s.transit_lane AS lane, s.booked_at, s.dispatched_at,
               s.delivered_at
          FROM logistics_sync_shipment s
          JOIN logistics_sync_system y ON y.id = s.system_id
         WHERE s.delivered_at IS NOT NULL AND s.booked_at IS NOT NULL
           AND s.delivered_at >= s.booked_at AND s.transit_lane IS NOT NULL
           AND s.delivered_at <= %(now)s
           AND s.delivered_at >= %(now)s - make_interval(days => y.monitor_history_days)
           AND s.system_id = ANY(%(systems)s)
           AND (%(lanes)s::varchar[] IS NULL OR s.transit_lane = ANY(%(lanes)s::varchar[]))
    ), scans AS (
        SELECT id, system_id, lane, booked_at AS at FROM finished
        UNION
        SELECT id, system_id, lane, delivered_at FROM finished
        UNION
        SELECT id, system_id, lane, greatest(dispatched_at, booked_at)
          FROM finished WHERE dispatched_at <= delivered_at
        UNION
        -- a report dated before the booking (a carrier's clock) counts as the booking
        SELECT f.id, f.system_id, f.lane, greatest(m.occurred_at, f.booked_at)
          FROM finished f
          JOIN logistics_sync_shipment_milestone m ON m.shipment_id = f.id
         WHERE m.occurred_at <= f.delivered_at
    ), history AS (
        SELECT id, system_id, lane, hours
          FROM (SELECT id, system_id, lane,
                       extract(epoch FROM at - lag(at) OVER (PARTITION BY id ORDER BY at))
                           / 3600.0 AS hours
                  FROM scans) g
         WHERE hours IS NOT NULL
    ), centre AS (
        SELECT system_id, lane, count(*) AS n, count(DISTINCT id) AS shipments,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS median
          FROM history
         GROUP BY 1, 2
    )
    SELECT c.system_id, c.lane, c.n, c.shipments, c.median,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(h.hours - c.median)) AS mad,
           y.monitor_anomaly_k, y.monitor_anomaly_min_sample, y.monitor_history_days
      FROM centre c
      JOIN history h ON h.system_id = c.system_id AND h.lane = c.lane
      JOIN logistics_sync_system y ON y.id = c.system_id
     GROUP BY c.system_id, c.lane, c.n, c.shipments, c.median, y.id
"""


def robust_threshold(median, mad, k):
    """The flag threshold of a lane: ``median + k × MAD``, the MAD *unscaled* (the median
    of the absolute deviations from the median, not multiplied by 1.4826 into an estimate
    of a normal distribution's standard deviation: transit times and scan gaps are skewed,
    so "k standard deviations" would be a promise the data do not keep). Transit times and
    scan gaps share this one definition and the carrier's k."""
    return median + k * mad


class LogisticsSyncTransit(models.AbstractModel):
    """Operational assist on carrier transit times, per carrier and lane (statistics,
    honest about their basis):

    - a shipment in transit longer than its lane's median + k × MAD is *slow*: the hourly
      cron opens a ``transit_anomaly`` exception showing lane, sample size, median, MAD, k
      and threshold; it resolves once the shipment is delivered;
    - the ETA of a shipment on its way is its hand-over time plus the lane's median (and
      90th percentile for the latest expected), shown with the sample it comes from.

    - a shipment on its way without a tracking scan for longer than its lane's usual gap
      between scans (median + k × MAD of the gaps between consecutive tracking reports of
      the lane's delivered shipments, the booking to the first scan included) is *silent*:
      the hourly cron opens a ``scan_gap`` exception with the lane's median gap, MAD,
      threshold and sample and the hours since the last scan; the next scan resolves it.

    Neither the slow flag nor the ETA is given for a lane with fewer delivered shipments
    than the carrier's minimum history; the silent flag then falls back to the carrier's
    'scan at least every' hours, and says so. k, the minimum and the history window are set
    on the carrier system; k multiplies the unscaled MAD (see :func:`robust_threshold`).
    """

    _name = "logistics.sync.transit"
    _description = "Logistics Sync Transit Statistics"

    @api.model
    def _lane_stats(self, now, systems):
        """``{(system id, lane): {"n", "median", "p10", "p90", "mad", "k", "min_sample",
        "days", "threshold", "enough"}}`` for the lanes of ``systems`` (hours)."""
        self.env["logistics.sync.shipment"].flush_model()
        self.env["logistics.sync.system"].flush_model()
        self.env.cr.execute(LANE_STATS, {"now": now, "systems": list(systems.ids)})
        stats = {}
        for (
            system_id,
            lane,
            n,
            median,
            p10,
            p90,
            mad,
            k,
            min_sample,
            days,
        ) in self.env.cr.fetchall():
            stats[(system_id, lane)] = {
                "n": n,
                "median": median,
                "p10": p10,
                "p90": p90,
                "mad": mad,
                "k": k,
                "min_sample": min_sample,
                "days": days,
                "threshold": robust_threshold(median, mad, k),
                "enough": n >= min_sample,
            }
        return stats

    @api.model
    def _scan_gap_stats(self, now, systems, lanes=None):
        """``{(system id, lane): {"n" (gaps), "shipments", "median", "mad", "k",
        "min_sample", "days", "threshold", "enough"}}`` (hours) for the lanes of ``systems``
        (only ``lanes`` when given). A lane has *enough* history when its gaps come from at
        least the carrier's minimum number of delivered shipments (the gaps of one shipment
        are not independent of each other)."""
        self.env["logistics.sync.shipment"].flush_model()
        self.env["logistics.sync.shipment.milestone"].flush_model()
        self.env["logistics.sync.system"].flush_model()
        self.env.cr.execute(
            SCAN_GAP_STATS,
            {
                "now": now,
                "systems": list(systems.ids),
                "lanes": sorted(lanes) if lanes is not None else None,
            },
        )
        stats = {}
        for row in self.env.cr.fetchall():
            system_id, lane, n, shipments, median, mad, k, min_sample, days = row
            stats[(system_id, lane)] = {
                "n": n,
                "shipments": shipments,
                "median": median,
                "mad": mad,
                "k": k,
                "min_sample": min_sample,
                "days": days,
                "threshold": robust_threshold(median, mad, k),
                "enough": shipments >= min_sample,
            }
        return stats

    @api.model
    def _scan_silences(self, shipments, now):
        """``{shipment id: {"hours" (since the last scan, or the booking before any),
        "last_at", "threshold" (hours; ``None``: no threshold), "learned" (the lane's
        history, else the carrier's 'scan at least every'), "lane" (the lane's statistics,
        possibly too thin), "basis" (the figures in words), "overdue"}}`` for those of
        ``shipments`` on their way (booked, not delivered nor returned)."""
        moving = shipments.filtered(
            lambda s: s.state == "booked"
            and s.booked_at
            and not s.delivered_at
            and s.status not in ("delivered", "returned")
        )
        if not moving:
            return {}
        lanes = {s.transit_lane for s in moving if s.transit_lane}
        stats = self._scan_gap_stats(now, moving.system_id, lanes)
        silences = {}
        for shipment in moving:
            last_at = max(shipment.booked_at, shipment.status_at or shipment.booked_at)
            hours = (now - last_at).total_seconds() / 3600.0
            lane = stats.get((shipment.system_id.id, shipment.transit_lane))
            if lane and lane["enough"]:
                threshold = lane["threshold"]
            else:
                threshold = shipment.system_id.monitor_sla_scan_hours or None
            silence = {
                "hours": hours,
                "last_at": last_at,
                "threshold": threshold,
                "learned": bool(lane and lane["enough"]),
                "lane": lane,
                "overdue": threshold is not None and hours > threshold,
            }
            silence["basis"] = self._scan_basis(shipment, silence)
            silences[shipment.id] = silence
        return silences

    @api.model
    def _silent_shipments(self, now):
        """``[(shipment, silence)]`` (see :meth:`_scan_silences`): shipments on their way
        without a tracking scan for longer than their lane's usual gaps (or, on a lane
        with too little history, than their carrier's 'scan at least every')."""
        Shipment = self.env["logistics.sync.shipment"].sudo()
        Shipment.flush_model()
        self.env.cr.execute(
            """
            SELECT id
              FROM logistics_sync_shipment
             WHERE state = 'booked' AND booked_at IS NOT NULL AND delivered_at IS NULL
               AND (status IS NULL OR status NOT IN ('delivered', 'returned'))
            """
        )
        moving = Shipment.browse([row[0] for row in self.env.cr.fetchall()])
        silences = self._scan_silences(moving, now)
        return [
            (shipment, silences[shipment.id])
            for shipment in moving
            if silences.get(shipment.id, {}).get("overdue")
        ]

    @api.model
    def _slow_shipments(self, now):
        """``[(shipment, hours in transit, lane stats)]``: shipments on their way longer
        than their lane's threshold (lanes with enough history only)."""
        Shipment = self.env["logistics.sync.shipment"].sudo()
        Shipment.flush_model()
        self.env.cr.execute(
            """
            SELECT id, system_id, transit_lane, extract(epoch FROM %s - dispatched_at) / 3600.0
              FROM logistics_sync_shipment
             WHERE state = 'booked' AND dispatched_at IS NOT NULL AND delivered_at IS NULL
               AND transit_lane IS NOT NULL
               AND (status IS NULL OR status NOT IN ('delivered', 'returned'))
            """,
            (now,),
        )
        moving = self.env.cr.fetchall()
        if not moving:
            return []
        systems = self.env["logistics.sync.system"].browse({row[1] for row in moving})
        stats = self._lane_stats(now, systems)
        slow = []
        for shipment_id, system_id, lane, hours in moving:
            lane_stats = stats.get((system_id, lane))
            if lane_stats and lane_stats["enough"] and hours > lane_stats["threshold"]:
                slow.append((Shipment.browse(shipment_id), hours, lane_stats))
        return slow

    @api.model
    def _cron_flag_slow(self):
        """Open (or update) an exception per slow shipment; return how many are slow."""
        now = fields.Datetime.now()
        Exception = self.env["logistics.sync.exception"].sudo()
        slow = self._slow_shipments(now)
        keys = set()
        for shipment, hours, stats in slow:
            key = f"transit_anomaly:{shipment.id}"
            keys.add(key)
            Exception._open(
                "transit_anomaly",
                key,
                {
                    "name": _(
                        "%(picking)s: slow with %(carrier)s (%(hours)s h in transit, usual "
                        "at most %(threshold)s h)",
                        picking=shipment.picking_id.name,
                        carrier=shipment.system_id.name,
                        hours=_hours(hours),
                        threshold=_hours(stats["threshold"]),
                    ),
                    "detail": self._basis(shipment, stats)
                    + " "
                    + _(
                        "This shipment: handed over on %(since)s UTC, %(hours)s h in transit.",
                        since=fields.Datetime.to_string(shipment.dispatched_at),
                        hours=_hours(hours),
                    ),
                    "system_id": shipment.system_id.id,
                    **shipment._exception_links(shipment.picking_id, "medium"),
                },
                count=False,
            )
        Exception._resolve_all_but(
            "transit_anomaly", keys, _("No longer slow (delivered or ended).")
        )
        return len(slow)

    @api.model
    def _cron_flag_silent(self):
        """Open (or update) an exception per shipment without a tracking scan for longer
        than usual; resolve those scanned since (a scan resolves at once, see the
        shipment). Return how many are silent."""
        now = fields.Datetime.now()
        Exception = self.env["logistics.sync.exception"].sudo()
        silent = self._silent_shipments(now)
        keys = set()
        for shipment, silence in silent:
            key = f"scan_gap:{shipment.id}"
            keys.add(key)
            Exception._open(
                "scan_gap",
                key,
                {
                    "name": _(
                        "%(picking)s: no tracking scan from %(carrier)s for %(hours)s h "
                        "(usual at most %(threshold)s h)",
                        picking=shipment.picking_id.name,
                        carrier=shipment.system_id.name,
                        hours=_hours(silence["hours"]),
                        threshold=_hours(silence["threshold"]),
                    ),
                    "detail": silence["basis"],
                    "system_id": shipment.system_id.id,
                    **shipment._exception_links(shipment.picking_id, "medium"),
                },
                count=False,
            )
        Exception._resolve_all_but(
            "scan_gap", keys, _("Scanned again, or no longer past its threshold or on its way.")
        )
        return len(silent)

    @api.model
    def _scan_basis(self, shipment, silence):
        """The figures behind a scan-gap flag (or its absence), in words: which basis
        applies, the lane's median gap, MAD, threshold and sample, the hours since the
        last scan."""
        lane = silence["lane"]
        system = shipment.system_id
        this = _(
            "Last tracking report on %(since)s UTC, %(hours)s h ago.",
            since=fields.Datetime.to_string(silence["last_at"]),
            hours=_hours(silence["hours"]),
        )
        if silence["learned"]:
            usual = _(
                "Lane %(lane)s with %(carrier)s: %(n)s gap(s) between tracking reports of "
                "%(shipments)s delivered shipment(s) in the last %(days)s days; median gap "
                "%(median)s h, MAD %(mad)s h; threshold median + %(k)s × MAD = %(threshold)s h.",
                lane=shipment.transit_lane,
                carrier=system.name,
                n=lane["n"],
                shipments=lane["shipments"],
                days=lane["days"],
                median=_hours(lane["median"]),
                mad=_hours(lane["mad"]),
                k=round(lane["k"], 2),
                threshold=_hours(lane["threshold"]),
            )
        else:
            if not shipment.transit_lane:
                thin = _("No lane (the warehouse or the destination country is missing)")
            else:
                thin = _(
                    "Lane %(lane)s with %(carrier)s: %(shipments)s delivered shipment(s) with "
                    "tracking in the last %(days)s days, %(needed)s needed to learn its usual "
                    "gaps",
                    lane=shipment.transit_lane,
                    carrier=system.name,
                    shipments=lane["shipments"] if lane else 0,
                    days=system.monitor_history_days,
                    needed=system.monitor_anomaly_min_sample,
                )
            if silence["threshold"] is None:
                usual = _("%s; the carrier sets no 'scan at least every': no threshold.", thin)
            else:
                usual = _(
                    "%(thin)s; the carrier's setting applies: a scan at least every "
                    "%(hours)s h.",
                    thin=thin,
                    hours=system.monitor_sla_scan_hours,
                )
        return f"{usual} {this}"

    @api.model
    def _basis(self, shipment, stats):
        """The figures behind a flag or a prediction, in words."""
        return _(
            "Lane %(lane)s with %(carrier)s: %(n)s delivered shipment(s) in the last %(days)s "
            "days; median %(median)s h, MAD %(mad)s h, 10-90%% range %(p10)s-%(p90)s h; "
            "threshold median + %(k)s × MAD = %(threshold)s h.",
            lane=shipment.transit_lane,
            carrier=shipment.system_id.name,
            n=stats["n"],
            days=stats["days"],
            median=_hours(stats["median"]),
            mad=_hours(stats["mad"]),
            p10=_hours(stats["p10"]),
            p90=_hours(stats["p90"]),
            k=round(stats["k"], 2),
            threshold=_hours(stats["threshold"]),
        )


def _hours(value):
    return f"{value:.1f}"
