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


class LogisticsSyncTransit(models.AbstractModel):
    """Operational assist on carrier transit times, per carrier and lane (statistics,
    honest about their basis):

    - a shipment in transit longer than its lane's median + k × MAD is *slow*: the hourly
      cron opens a ``transit_anomaly`` exception showing lane, sample size, median, MAD, k
      and threshold; it resolves once the shipment is delivered;
    - the ETA of a shipment on its way is its hand-over time plus the lane's median (and
      90th percentile for the latest expected), shown with the sample it comes from.

    Neither is given for a lane with fewer delivered shipments than the carrier's minimum
    history. k, the minimum and the history window are set on the carrier system.
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
                "threshold": median + k * mad,
                "enough": n >= min_sample,
            }
        return stats

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
        stale = Exception.search(
            [
                ("kind", "=", "transit_anomaly"),
                ("state", "in", ("new", "assigned")),
                ("dedup_key", "not in", list(keys)),
            ]
        )
        Exception._resolve(stale.mapped("dedup_key"), _("No longer slow (delivered or ended)."))
        return len(slow)

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
