"""Monitor dashboard and metrics endpoint on a large database.

Fills a benchmark database in SQL with a tenth of the target rows, times the dashboard's
data call (JSON-RPC, manager page) and the Prometheus metrics endpoint on a real Odoo
server, then fills up to the target (default 1,000,000 messages, 100,000 events, 10,000
exceptions, one delivery attempt per message that was tried) and times them again.

    ./dev bench monitor_dashboard [--messages 1000000] [--events 100000] [--exceptions 10000]

Rows are spread over the last 30 days; the hourly rollup cron runs after each fill (as it
would in production) and VACUUM ANALYZE updates the statistics. Each figure is the median
of --runs calls after one warm-up call. Targets: dashboard < 1,000 ms, metrics < 500 ms.
"""

import argparse
import statistics
import time

import requests
from benchlib import odoo_server

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

PAYLOAD = (
    '{"order_id": "bench", "name": "S00042", "client_order_ref": "SHOP-42", "lines": '
    '[{"sku": "WID-1", "quantity": 2}, {"sku": "WID-2", "quantity": 1}], "partner": '
    '{"name": "Jane", "email": "***", "phone": "***"}, "warehouse": "WH"}'
)
KINDS = ["dead_letter", "inbound_error", "unknown_code", "parked_change", "saga_failed"]


def setup(env):
    """Systems, flows and a metrics token; returns (flow ids, system ids, token)."""
    from odoo.addons.logistics_sync_webhook import api as api_tools

    types = env["logistics.sync.event.type"].search([("code", "like", ".")])
    systems = env["logistics.sync.system"].create(
        [{"name": f"Bench system {i}", "code": f"bench_{i}", "kind": "wms"} for i in range(5)]
    )
    flows = env["logistics.sync.flow"].create(
        [
            {
                "name": f"Bench flow {i}",
                "system_id": systems[i % 5].id,
                "event_type_ids": [(6, 0, types.ids)],
                "sla_minutes": 15,
                # webhook subscriptions, paused: the bench's job is to read, not to send
                "transport": "http",
                "url": f"http://127.0.0.1:9/bench{i}",
                "delivery_state": "paused",
            }
            for i in range(10)
        ]
    )
    token, prefix, digest = api_tools.generate_key()
    env["logistics.sync.metrics.token"].create(
        {"name": "bench", "prefix": prefix, "token_hash": digest}
    )
    return flows.ids, systems.ids, types.ids, token


def fill(cr, start, count, flow_ids, type_ids, system_ids, exceptions_from, exceptions_to):
    """Events [start, start + count) with one message per flow each, their attempts, and
    exceptions [exceptions_from, exceptions_to)."""
    cr.execute(
        """
        INSERT INTO logistics_sync_event
            (uid, event_type_id, type_code, aggregate_model, aggregate_id,
             aggregate_canonical_id, sequence, payload, state, correlation_id,
             create_uid, write_uid, create_date, write_date)
        SELECT 'bench-' || g, t.id, t.code, 'res.partner', g, 'bench-' || g, 1,
               %(payload)s::jsonb, 'routed', 'bench-' || g, 1, 1, c, c
          FROM (SELECT g, (now() at time zone 'UTC') - random() * interval '30 days' AS c
                  FROM generate_series(%(start)s, %(end)s) g) d
          JOIN logistics_sync_event_type t
            ON t.id = (%(types)s::int[])[1 + g %% array_length(%(types)s::int[], 1)]
        """,
        {
            "payload": PAYLOAD,
            "start": start,
            "end": start + count - 1,
            "types": type_ids,
        },
    )
    cr.execute(
        """
        INSERT INTO logistics_sync_message
            (uid, event_id, flow_id, system_id, type_code, aggregate_canonical_id, payload,
             state, attempt_count, deadline, batched, delivered_at,
             create_uid, write_uid, create_date, write_date)
        SELECT md5(e.id || '-' || f.id), e.id, f.id, f.system_id, e.type_code,
               e.aggregate_canonical_id, e.payload,
               s.state, CASE WHEN s.state = 'pending' THEN 0 ELSE 1 END,
               e.create_date + interval '15 minutes', false,
               CASE WHEN s.state = 'sent'
                    THEN e.create_date + random() * interval '20 seconds' END,
               1, 1, e.create_date, e.create_date
          FROM logistics_sync_event e
          JOIN logistics_sync_flow f ON f.id = ANY(%(flows)s)
          CROSS JOIN LATERAL (
                SELECT CASE WHEN r < 0.96 THEN 'sent' WHEN r < 0.97 THEN 'failed'
                            WHEN r < 0.98 THEN 'pending' WHEN r < 0.99 THEN 'dead'
                            ELSE 'cancelled' END AS state
                  FROM (SELECT random() + 0 * e.id AS r) x) s
         WHERE e.uid LIKE 'bench-%%' AND e.aggregate_id BETWEEN %(start)s AND %(end)s
        """,
        {"flows": flow_ids, "start": start, "end": start + count - 1},
    )
    cr.execute(
        """
        INSERT INTO logistics_sync_message_attempt
            (message_id, company_id, attempted_at, status_code, duration_ms, outcome,
             create_uid, write_uid, create_date, write_date)
        SELECT m.id, NULL, coalesce(m.delivered_at, m.create_date + interval '1 minute'),
               CASE m.state WHEN 'sent' THEN 200 ELSE 500 END, 40 + (m.id %% 200),
               CASE m.state WHEN 'sent' THEN 'delivered' WHEN 'dead' THEN 'dead'
                            ELSE 'retry' END,
               1, 1, m.create_date, m.create_date
          FROM logistics_sync_message m
          JOIN logistics_sync_event e ON e.id = m.event_id
         WHERE m.state IN ('sent', 'failed', 'dead')
           AND e.uid LIKE 'bench-%%' AND e.aggregate_id BETWEEN %(start)s AND %(end)s
        """,
        {"start": start, "end": start + count - 1},
    )
    cr.execute(
        """
        INSERT INTO logistics_sync_exception
            (dedup_key, kind, name, severity, state, occurrences, first_seen, last_seen,
             system_id, create_uid, write_uid, create_date, write_date)
        SELECT 'bench:' || g, (%(kinds)s::text[])[1 + g %% 5], 'Bench exception ' || g,
               'medium', CASE WHEN g %% 5 = 0 THEN 'new' ELSE 'resolved' END, 1 + g %% 3,
               c, c, (%(systems)s::int[])[1 + g %% 5], 1, 1, c, c
          FROM (SELECT g, (now() at time zone 'UTC') - random() * interval '30 days' AS c
                  FROM generate_series(%(start)s, %(end)s) g) d
        """,
        {
            "kinds": KINDS,
            "systems": system_ids,
            "start": exceptions_from,
            "end": exceptions_to - 1,
        },
    )


def counts(cr):
    cr.execute(
        """
        SELECT (SELECT count(*) FROM logistics_sync_message),
               (SELECT count(*) FROM logistics_sync_event),
               (SELECT count(*) FROM logistics_sync_exception),
               (SELECT count(*) FROM logistics_sync_message_attempt)
        """
    )
    return cr.fetchone()


def timed(call, runs):
    call()  # warm-up: caches, first compilation of the assets and queries
    samples = []
    for _index in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples), max(samples)


def measure(base, token, runs, figures):
    session = requests.Session()
    session.post(
        f"{base}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": DATABASE, "login": "admin", "password": "admin"}},
        timeout=60,
    ).raise_for_status()

    def dashboard():
        response = session.post(
            f"{base}/web/dataset/call_kw/logistics.sync.dashboard/get_data",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {
                    "model": "logistics.sync.dashboard",
                    "method": "get_data",
                    "args": ["manager"],
                    "kwargs": {},
                },
            },
            timeout=120,
        )
        response.raise_for_status()
        body = response.json()
        assert "result" in body, body.get("error")
        figures.update({tile["key"]: tile.get("value") for tile in body["result"]["tiles"]})
        figures["graph points"] = sum(
            sum(line["data"]) for series in body["result"]["series"] for line in series["lines"]
        )

    def metrics():
        response = requests.get(
            f"{base}/logistics_sync/metrics",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        response.raise_for_status()
        assert "logistics_sync_messages" in response.text

    return timed(dashboard, runs), timed(metrics, runs)


DATABASE = None


def main():
    global DATABASE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--exceptions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--server-log", default="/tmp/logistics_sync_bench_monitor.log")
    args = parser.parse_args()
    DATABASE = args.database
    flows_per_event = max(1, args.messages // args.events)
    if flows_per_event != 10:
        parser.error("--messages must be 10 times --events (one message per flow, 10 flows)")
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        flow_ids, system_ids, type_ids, token = setup(env)
        cr.commit()

    results = []
    filled_events = filled_exceptions = 0
    for fraction in (10, 1):
        target_events = args.events // fraction
        target_exceptions = args.exceptions // fraction
        started = time.perf_counter()
        with registry.cursor() as cr:
            fill(
                cr,
                filled_events + 1,
                target_events - filled_events,
                flow_ids,
                type_ids,
                system_ids,
                filled_exceptions + 1,
                target_exceptions + 1,
            )
            cr.commit()
            env = api.Environment(cr, SUPERUSER_ID, {})
            # the fill back-dates rows over 30 days, which live traffic never does: roll
            # every hour up again, as the cron would have done while they arrived
            env["ir.config_parameter"].set_param("logistics_sync_monitor.rollup_until", False)
            env["logistics.sync.monitor.rollup"]._cron_rollup()
            cr.commit()
            sizes = counts(cr)
        filled_events, filled_exceptions = target_events, target_exceptions
        with registry.cursor() as cr:
            cr._cnx.autocommit = True
            cr.execute("VACUUM ANALYZE")
        fill_seconds = time.perf_counter() - started
        with odoo_server(args.config, args.database, args.server_log, job_runner=False) as base:
            figures = {}
            dashboard, metrics = measure(base, token, args.runs, figures)
        results.append((sizes, fill_seconds, dashboard, metrics, figures))

    print("rows: messages / events / exceptions / attempts; times in ms: median (min-max)")
    for (
        messages,
        events,
        exceptions,
        attempts,
    ), fill_seconds, dashboard, metrics, figures in results:
        print(
            f"{messages:>9,} / {events:>7,} / {exceptions:>6,} / {attempts:>9,}"
            f"  (filled in {fill_seconds:.0f} s)"
        )
        print(
            f"    dashboard get_data (manager page): {dashboard[0]:7.1f} ms"
            f" ({dashboard[1]:.1f}-{dashboard[2]:.1f})  target < 1000 ms"
        )
        print(
            f"    GET /logistics_sync/metrics:       {metrics[0]:7.1f} ms"
            f" ({metrics[1]:.1f}-{metrics[2]:.1f})  target < 500 ms"
        )
        shown = ", ".join(f"{key} {value}" for key, value in figures.items() if value is not None)
        print(f"    what the dashboard showed: {shown}")
    small, large = results
    print(
        f"growth for 10x the rows: dashboard x{large[2][0] / small[2][0]:.2f}, "
        f"metrics x{large[3][0] / small[3][0]:.2f}"
    )
    ok = large[2][0] < 1000 and large[3][0] < 500
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
