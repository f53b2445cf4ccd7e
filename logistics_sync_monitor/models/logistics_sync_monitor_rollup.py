from collections import defaultdict
from datetime import datetime, timedelta

from psycopg2.extras import execute_values

from odoo import api, fields, models
from odoo.tools import sql

#: Upper bounds (seconds) of the delivery latency histogram: event written -> delivered.
LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)
#: An hour is rolled up once it ended this long ago (late commits of its last rows).
GRACE = timedelta(minutes=5)
#: Closed hours recomputed on every run as well, for rows committed later than the grace.
RECHECK = timedelta(hours=2)
PARAM_UNTIL = "logistics_sync_monitor.rollup_until"

# Per metric: rows (hour, system id, label, count, total) of the base records whose time is in
# [start, end). Every base table used has an index on its time column (see init()).
_AGGREGATES = {
    "event": """
        SELECT date_trunc('hour', create_date), origin_system_id, type_code, count(*), 0
          FROM logistics_sync_event
         WHERE create_date >= %(start)s AND create_date < %(end)s
         GROUP BY 1, 2, 3
    """,
    "attempt": """
        SELECT date_trunc('hour', a.attempted_at), m.system_id, a.outcome, count(*),
               coalesce(sum(a.duration_ms), 0) / 1000.0
          FROM logistics_sync_message_attempt a
          JOIN logistics_sync_message m ON m.id = a.message_id
         WHERE a.attempted_at >= %(start)s AND a.attempted_at < %(end)s
         GROUP BY 1, 2, 3
    """,
    "latency": """
        SELECT date_trunc('hour', attempted_at), system_id,
               (SELECT count(*) FROM unnest(%(buckets)s::float8[]) b WHERE b < lat)::text,
               count(*), sum(lat)
          FROM (SELECT a.attempted_at, m.system_id,
                       greatest(extract(epoch FROM a.attempted_at - e.create_date), 0) AS lat
                  FROM logistics_sync_message_attempt a
                  JOIN logistics_sync_message m ON m.id = a.message_id
                  JOIN logistics_sync_event e ON e.id = m.event_id
                 WHERE a.outcome = 'delivered'
                   AND a.attempted_at >= %(start)s AND a.attempted_at < %(end)s) d
         GROUP BY 1, 2, 3
    """,
    "inbound": """
        SELECT date_trunc('hour', create_date), system_id, 'accepted', count(*), 0
          FROM logistics_sync_inbound_message
         WHERE create_date >= %(start)s AND create_date < %(end)s
         GROUP BY 1, 2
         UNION ALL
        SELECT date_trunc('hour', create_date), system_id, outcome, count(*), 0
          FROM logistics_sync_edge_log
         WHERE direction = 'inbound' AND create_date >= %(start)s AND create_date < %(end)s
         GROUP BY 1, 2, 3
    """,
    "outbound_duplicate": """
        SELECT date_trunc('hour', create_date), system_id, 'duplicate', count(*), 0
          FROM logistics_sync_edge_log
         WHERE direction = 'outbound' AND create_date >= %(start)s AND create_date < %(end)s
         GROUP BY 1, 2
    """,
    "exception": """
        SELECT date_trunc('hour', first_seen), system_id, kind, count(*), 0
          FROM logistics_sync_exception
         WHERE first_seen >= %(start)s AND first_seen < %(end)s
         GROUP BY 1, 2, 3
    """,
}
_EARLIEST = {
    "event": "SELECT min(create_date) FROM logistics_sync_event",
    "attempt": "SELECT min(attempted_at) FROM logistics_sync_message_attempt",
    "inbound": "SELECT min(create_date) FROM logistics_sync_inbound_message",
    "edge": "SELECT min(create_date) FROM logistics_sync_edge_log",
    "exception": "SELECT min(first_seen) FROM logistics_sync_exception",
}


def latency_label(index):
    """The histogram bound (Prometheus ``le``) of bucket ``index`` as stored in ``label``."""
    index = int(index)
    return "+Inf" if index >= len(LATENCY_BUCKETS) else str(float(LATENCY_BUCKETS[index]))


class LogisticsSyncMonitorRollup(models.Model):
    """Hourly figures of the append-only records (events, delivery attempts and latencies,
    inbound messages, absorbed duplicates and refusals, exceptions opened), filled by a
    cron for the hours that ended. The dashboard's graphs and the metrics' counters read
    them, plus a live aggregate of the hours not rolled up yet, so they stay exact without
    scanning millions of rows."""

    _name = "logistics.sync.monitor.rollup"
    _description = "Logistics Sync Hourly Figures"
    _order = "hour desc, metric, label"
    _log_access = False

    hour = fields.Datetime(required=True, readonly=True, index=True)
    metric = fields.Selection(
        [
            ("event", "Events emitted"),
            ("attempt", "Delivery attempts"),
            ("latency", "Delivery latency"),
            ("inbound", "Inbound webhooks"),
            ("outbound_duplicate", "Outbound duplicates absorbed"),
            ("exception", "Exceptions opened"),
        ],
        required=True,
        readonly=True,
    )
    system_id = fields.Many2one("logistics.sync.system", readonly=True, ondelete="cascade")
    label = fields.Char(
        readonly=True,
        help="Event type, attempt outcome, latency bucket, inbound outcome or exception kind.",
    )
    count = fields.Integer(readonly=True, aggregator="sum")
    total = fields.Float(
        readonly=True, aggregator="sum", help="Sum of seconds (attempt durations, latencies)."
    )

    def init(self):
        # the time columns the aggregates read a range of (a message's delivered_at is
        # indexed by its field), and messages by system and state (metrics) from the
        # index alone
        for table, columns in (
            ("logistics_sync_event", ["create_date"]),
            ("logistics_sync_message_attempt", ["attempted_at"]),
            ("logistics_sync_inbound_message", ["create_date"]),
            ("logistics_sync_message", ["system_id", "state"]),
            ("logistics_sync_monitor_rollup", ["metric", "hour"]),
        ):
            sql.create_index(
                self.env.cr, f"{table}_ls_monitor_{'_'.join(columns)}_idx", table, columns
            )

    # ------------------------------------------------------------------ filling

    @api.model
    def _aggregate(self, metric, start, end):
        """Rows ``(hour, system id, label, count, total)`` of ``metric`` in [start, end)."""
        self.env.flush_all()
        self.env.cr.execute(
            _AGGREGATES[metric],
            {"start": start, "end": end, "buckets": list(map(float, LATENCY_BUCKETS))},
        )
        return self.env.cr.fetchall()

    @api.model
    def _until(self):
        value = self.env["ir.config_parameter"].sudo().get_param(PARAM_UNTIL)
        return fields.Datetime.to_datetime(value) if value else None

    @api.model
    def _cron_rollup(self, now=None):
        """Roll up the hours that ended (recomputing the last few, which is idempotent)."""
        now = now or fields.Datetime.now()
        end = (now - GRACE).replace(minute=0, second=0, microsecond=0)
        until = self._until()
        start = min(until, end - RECHECK) if until else self._earliest() or end
        start = start.replace(minute=0, second=0, microsecond=0)
        if start < end:
            cr = self.env.cr
            cr.execute(
                "DELETE FROM logistics_sync_monitor_rollup WHERE hour >= %s AND hour < %s",
                (start, end),
            )
            rows = [
                (hour, metric, system_id, label, count, total)
                for metric in _AGGREGATES
                for hour, system_id, label, count, total in self._aggregate(metric, start, end)
            ]
            execute_values(
                cr._obj,
                "INSERT INTO logistics_sync_monitor_rollup "
                "(hour, metric, system_id, label, count, total) VALUES %s",
                rows,
            )
            self.invalidate_model()
        self.env["ir.config_parameter"].sudo().set_param(
            PARAM_UNTIL, fields.Datetime.to_string(max(end, until or end))
        )
        return end

    @api.model
    def _earliest(self):
        moments = []
        for query in _EARLIEST.values():
            self.env.cr.execute(query)
            moment = self.env.cr.fetchone()[0]
            if moment:
                moments.append(moment)
        return min(moments) if moments else None

    # ------------------------------------------------------------------ reading

    @api.model
    def _series(self, metric, since, now=None):
        """Hourly rows ``{(hour, system id, label): [count, total]}`` of ``metric`` from
        ``since``: rolled-up hours, then the live aggregate of the rest."""
        now = now or fields.Datetime.now()
        until = self._until() or since
        result = defaultdict(lambda: [0, 0.0])
        if until > since:
            self.env.cr.execute(
                """
                SELECT hour, system_id, label, count, total FROM logistics_sync_monitor_rollup
                 WHERE metric = %s AND hour >= %s AND hour < %s
                """,
                (metric, since, until),
            )
            rows = self.env.cr.fetchall()
        else:
            rows = []
        rows += self._aggregate(metric, max(since, until), now + timedelta(hours=1))
        for hour, system_id, label, count, total in rows:
            entry = result[(hour, system_id, label)]
            entry[0] += count
            entry[1] += float(total or 0)
        return result

    @api.model
    def _totals(self, metric):
        """All-time ``{(system id, label): [count, total]}`` of ``metric``."""
        until = self._until()
        result = defaultdict(lambda: [0, 0.0])
        rows = []
        if until:
            self.env.cr.execute(
                """
                SELECT system_id, label, sum(count), sum(total)
                  FROM logistics_sync_monitor_rollup
                 WHERE metric = %s AND hour < %s
                 GROUP BY 1, 2
                """,
                (metric, until),
            )
            rows = self.env.cr.fetchall()
        live = self._aggregate(metric, until or datetime.min, datetime.max)
        rows += [(system_id, label, count, total) for _h, system_id, label, count, total in live]
        for system_id, label, count, total in rows:
            entry = result[(system_id, label)]
            entry[0] += int(count)
            entry[1] += float(total or 0)
        return result
