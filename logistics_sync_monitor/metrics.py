"""Prometheus metrics of Logistics Sync, read from the database on each scrape.

A custom collector (no in-process counters): every Odoo worker answers the same figures,
read from SQL aggregates and the hourly rollup. Example::

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector(env))
    text = generate_latest(registry)
"""

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from odoo import fields

from .models.logistics_sync_monitor_rollup import LATENCY_BUCKETS, latency_label

PREFIX = "logistics_sync_"
BREAKER_STATES = ("enabled", "paused", "disabled", "tripped")


class Collector:
    """Collect every Logistics Sync metric family from ``env`` (superuser environment)."""

    def __init__(self, env):
        self.env = env
        self.cr = env.cr

    def _rows(self, query, params=None):
        self.cr.execute(query, params or ())
        return self.cr.fetchall()

    def _system_codes(self):
        return dict(self._rows("SELECT id, code FROM logistics_sync_system"))

    def collect(self):
        codes = self._system_codes()
        code = lambda system_id: codes.get(system_id, "") if system_id else ""  # noqa: E731
        Rollup = self.env["logistics.sync.monitor.rollup"]

        events = CounterMetricFamily(
            PREFIX + "events", "Events written to the outbox, by type.", labels=["type"]
        )
        for type_code, count in self._rows(
            "SELECT type_code, count(*) FROM logistics_sync_event GROUP BY 1"
        ):
            events.add_metric([type_code or ""], count)
        yield events

        messages = GaugeMetricFamily(
            PREFIX + "messages",
            "Outbound messages by destination system and state.",
            labels=["system", "state"],
        )
        for system_id, state, count in self._rows(
            "SELECT system_id, state, count(*) FROM logistics_sync_message GROUP BY 1, 2"
        ):
            messages.add_metric([code(system_id), state], count)
        yield messages

        attempts = CounterMetricFamily(
            PREFIX + "delivery_attempts",
            "Delivery attempts by destination system and outcome.",
            labels=["system", "outcome"],
        )
        for (system_id, outcome), (count, _total) in sorted(
            Rollup._totals("attempt").items(), key=str
        ):
            attempts.add_metric([code(system_id), outcome or ""], count)
        yield attempts

        latency = HistogramMetricFamily(
            PREFIX + "delivery_latency_seconds",
            "Time from the event being written to its message being delivered.",
            labels=["system"],
        )
        per_system = {}
        for (system_id, index), (count, total) in Rollup._totals("latency").items():
            buckets, sums = per_system.setdefault(
                system_id, ([0] * (len(LATENCY_BUCKETS) + 1), [0.0])
            )
            buckets[int(index)] += count
            sums[0] += total
        for system_id, (buckets, sums) in sorted(per_system.items(), key=str):
            cumulative, running = [], 0
            for index, count in enumerate(buckets):
                running += count
                cumulative.append((latency_label(index), running))
            latency.add_metric([code(system_id)], cumulative, sums[0])
        yield latency

        inbound = CounterMetricFamily(
            PREFIX + "inbound_webhooks",
            "Inbound webhooks by system and outcome: accepted (stored), duplicate (absorbed), "
            "refused (4xx).",
            labels=["system", "outcome"],
        )
        for (system_id, outcome), (count, _total) in sorted(
            Rollup._totals("inbound").items(), key=str
        ):
            inbound.add_metric([code(system_id), outcome], count)
        yield inbound

        duplicates = CounterMetricFamily(
            PREFIX + "outbound_duplicates_absorbed",
            "Routings of an event to a flow that already had its message.",
            labels=["system"],
        )
        for (system_id, _label), (count, _total) in sorted(
            Rollup._totals("outbound_duplicate").items(), key=str
        ):
            duplicates.add_metric([code(system_id)], count)
        yield duplicates

        depth = GaugeMetricFamily(
            PREFIX + "queue_depth",
            "queue_job jobs of the Logistics Sync channels waiting or running, by channel.",
            labels=["channel"],
        )
        for channel, count in self._rows(
            """
            SELECT channel, count(*) FROM queue_job
             WHERE state IN ('wait_dependencies', 'pending', 'enqueued', 'started')
               AND (channel = 'root.logistics_sync' OR channel LIKE 'root.logistics\\_sync.%%')
             GROUP BY 1
            """
        ):
            depth.add_metric([channel], count)
        yield depth

        oldest = GaugeMetricFamily(
            PREFIX + "oldest_pending_message_age_seconds",
            "Age of the oldest message still to deliver (pending or failing), from its event, "
            "by system.",
            labels=["system"],
        )
        for system_id, age in self._rows(
            """
            SELECT m.system_id, extract(epoch FROM %s - min(e.create_date))
              FROM logistics_sync_message m
              JOIN logistics_sync_event e ON e.id = m.event_id
             WHERE m.state IN ('pending', 'failed')
             GROUP BY 1
            """,
            (fields.Datetime.now(),),
        ):
            oldest.add_metric([code(system_id)], float(age))
        yield oldest

        breaker = GaugeMetricFamily(
            PREFIX + "subscription_state",
            "1 for the current delivery state of each subscription (tripped = breaker open).",
            labels=["system", "subscription", "state"],
        )
        for system_id, name, state in self._rows(
            """
            SELECT system_id, name, delivery_state FROM logistics_sync_flow
             WHERE active AND transport IN ('http', 'amqp') ORDER BY id
            """
        ):
            for candidate in BREAKER_STATES:
                breaker.add_metric([code(system_id), name, candidate], int(state == candidate))
        yield breaker

        systems = GaugeMetricFamily(
            PREFIX + "system_tripped", "1 when a system's breaker is tripped.", labels=["system"]
        )
        for system_code, state in self._rows(
            "SELECT code, state FROM logistics_sync_system WHERE active ORDER BY code"
        ):
            systems.add_metric([system_code], int(state == "tripped"))
        yield systems

        exceptions = GaugeMetricFamily(
            PREFIX + "open_exceptions",
            "Exceptions waiting for a person (new or assigned), by kind and severity.",
            labels=["kind", "severity"],
        )
        for kind, severity, count in self._rows(
            """
            SELECT kind, severity, count(*) FROM logistics_sync_exception
             WHERE state IN ('new', 'assigned') GROUP BY 1, 2
            """
        ):
            exceptions.add_metric([kind, severity], count)
        yield exceptions

        breaches = CounterMetricFamily(
            PREFIX + "sla_breaches",
            "SLA breaches announced (sla.breached events).",
            labels=["sla"],
        )
        for sla, count in self._rows(
            """
            SELECT payload->>'sla', count(*) FROM logistics_sync_event
             WHERE type_code = 'sla.breached' GROUP BY 1
            """
        ):
            breaches.add_metric([sla or ""], count)
        yield breaches

        open_breaches = GaugeMetricFamily(
            PREFIX + "sla_breaches_open", "SLA breaches not met again yet.", labels=["system"]
        )
        for system_id, count in self._rows(
            """
            SELECT system_id, count(*) FROM logistics_sync_exception
             WHERE kind = 'sla_breach' AND state IN ('new', 'assigned') GROUP BY 1
            """
        ):
            open_breaches.add_metric([code(system_id)], count)
        yield open_breaches

        shipments = GaugeMetricFamily(
            PREFIX + "carrier_shipments",
            "Carrier bookings by carrier and booking state (booking, booked, failed, "
            "cancelling, cancelled, cancel_failed).",
            labels=["system", "state"],
        )
        for system_id, state, count in self._rows(
            "SELECT system_id, state, count(*) FROM logistics_sync_shipment GROUP BY 1, 2"
        ):
            shipments.add_metric([code(system_id), state], count)
        yield shipments

        milestones = CounterMetricFamily(
            PREFIX + "carrier_milestones",
            "Tracking milestones recorded, by carrier and milestone.",
            labels=["system", "milestone"],
        )
        for system_id, milestone, count in self._rows(
            """
            SELECT s.system_id, m.milestone, count(*)
              FROM logistics_sync_shipment_milestone m
              JOIN logistics_sync_shipment s ON s.id = m.shipment_id
             GROUP BY 1, 2
            """
        ):
            milestones.add_metric([code(system_id), milestone], count)
        yield milestones

        pod_late = GaugeMetricFamily(
            PREFIX + "carrier_pod_late",
            "Delivered shipments without proof of delivery past the carrier's delay.",
            labels=["system"],
        )
        for system_id, count in self._rows(
            "SELECT system_id, count(*) FROM logistics_sync_shipment WHERE pod_late GROUP BY 1"
        ):
            pod_late.add_metric([code(system_id)], count)
        yield pod_late
