"""Monitor dashboard and metrics endpoint on a large database.

Fills a benchmark database in SQL with a tenth of the target rows, times the dashboard's
data call (JSON-RPC, manager page) and the Prometheus metrics endpoint on a real Odoo
server, then fills up to the target (default 1,000,000 messages, 100,000 events, 10,000
exceptions, one delivery attempt per message that was tried) and times them again.

    ./dev bench monitor_dashboard [--messages 1000000] [--events 100000] [--exceptions 10000]
        [--shipments 10000] [--reconciliation-lines 10000]

The carrier side is filled too (one shipment per ten events by default, with its transfer
and tracking milestones, spread over 20 lanes) and one WMS snapshot per fill whose
reconciliation has the given number of lines (one in 20 beyond tolerance, undecided), so
that the carrier and reconciliation tiles read real rows; the lane statistics (transit
times, scan gaps) and the hourly slow/silent crons are timed in-process on the same data.

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


def setup_logistics(env, wms_id):
    """A carrier system and its shipping method, the main warehouse, products and storage
    locations for the reconciliation lines; returns their ids."""
    carrier_system = env["logistics.sync.system"].create(
        {"name": "Bench carrier", "code": "bench_carrier", "kind": "carrier"}
    )
    shipping = env["product.product"].create({"name": "Bench shipping", "type": "service"})
    method = env["delivery.carrier"].create(
        {
            "name": "Bench parcel",
            "delivery_type": "ls_json",
            "product_id": shipping.id,
            "logistics_sync_system_id": carrier_system.id,
            "logistics_sync_service": "express",
        }
    )
    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    products = env["product.product"].create(
        [{"name": f"Bench SKU {i}", "is_storable": True} for i in range(RECON_PRODUCTS)]
    )
    locations = env["stock.location"].create(
        [
            {"name": f"BIN-{i}", "location_id": warehouse.lot_stock_id.id, "usage": "internal"}
            for i in range(RECON_LOCATIONS)
        ]
    )
    return {
        "carrier_system": carrier_system.id,
        "method": method.id,
        "warehouse": warehouse.id,
        "out_type": warehouse.out_type_id.id,
        "stock": warehouse.lot_stock_id.id,
        "customers": env.ref("stock.stock_location_customers").id,
        "company": env.company.id,
        "wms": wms_id,
        "products": products.ids,
        "locations": locations.ids,
    }


#: Reconciliation lines are keyed by product and location: enough pairs for the full fill.
RECON_PRODUCTS, RECON_LOCATIONS = 200, 100
#: Carrier lanes the shipments are spread over.
LANES = 20


def fill_logistics(cr, ids, start, count, lines, round_no):
    """Shipments [start, start + count) with their transfers and tracking milestones
    (about 80 % delivered, 12 % on their way, 5 % rejected, 3 % cancelled of which a
    quarter refused by the carrier; delivered ones without proof of delivery are 'POD
    late' one time in 20), spread over 30 days and
    ``LANES`` lanes; and one WMS snapshot whose reconciliation has ``lines`` lines, one in
    20 beyond tolerance and undecided."""
    params = {**ids, "start": start, "end": start + count - 1, "lanes": LANES}
    cr.execute(
        """
        INSERT INTO stock_picking
            (name, picking_type_id, location_id, location_dest_id, company_id, move_type,
             state, scheduled_date, date_done, carrier_id,
             create_uid, write_uid, create_date, write_date)
        SELECT 'BENCH/OUT/' || g, %(out_type)s, %(stock)s, %(customers)s, %(company)s,
               'direct', 'done', c, c, %(method)s, 1, 1, c, c
          FROM (SELECT g, (now() at time zone 'UTC') - interval '2 hours'
                          - random() * interval '30 days' AS c
                  FROM generate_series(%(start)s, %(end)s) g) d
        """,
        params,
    )
    cr.execute(
        """
        INSERT INTO logistics_sync_shipment
            (name, picking_id, company_id, carrier_id, primary_carrier_id, system_id, service,
             state, status, status_at, booked_at, dispatched_at, delivered_at, pod_late,
             transit_lane, source, create_uid, write_uid, create_date, write_date)
        SELECT p.name, p.id, p.company_id, %(method)s, %(method)s, %(carrier_system)s,
               'express', k.state,
               CASE k.kind WHEN 'delivered' THEN 'delivered'
                           WHEN 'moving' THEN 'in_transit' END,
               CASE k.kind WHEN 'delivered' THEN p.date_done + k.transit
                           WHEN 'moving' THEN p.date_done + interval '1 hour' END,
               CASE WHEN k.state != 'failed' THEN p.date_done + interval '10 minutes' END,
               CASE WHEN k.kind IN ('delivered', 'moving') THEN p.date_done + interval '1 hour' END,
               CASE WHEN k.kind = 'delivered' THEN p.date_done + k.transit END,
               k.kind = 'delivered' AND p.id %% 20 = 0,
               'WH → BE-' || (10 + p.id %% %(lanes)s), 'odoo', 1, 1, p.date_done, p.date_done
          FROM stock_picking p
          CROSS JOIN LATERAL (
                SELECT CASE WHEN r < 0.80 THEN 'delivered' WHEN r < 0.92 THEN 'moving'
                            WHEN r < 0.97 THEN 'rejected' ELSE 'cancelled' END AS kind,
                       CASE WHEN r < 0.92 THEN 'booked' WHEN r < 0.97 THEN 'failed'
                            ELSE 'cancelled' END AS state,
                       interval '1 hour' * (20 + 10 * random() + 0 * p.id) AS transit
                  FROM (SELECT random() + 0 * p.id AS r) x) k
         WHERE p.name LIKE 'BENCH/OUT/%%'
           AND substr(p.name, 11)::int BETWEEN %(start)s AND %(end)s
        """,
        params,
    )
    # one cancellation in 4 the carrier refused; the transfers point at their booking
    cr.execute(
        """
        UPDATE logistics_sync_shipment SET state = 'cancel_failed'
         WHERE state = 'cancelled' AND id %% 4 = 0 AND carrier_id = %(method)s
           AND substr(name, 11)::int BETWEEN %(start)s AND %(end)s
        """,
        params,
    )
    cr.execute(
        """
        UPDATE stock_picking p
           SET logistics_sync_shipment_id = s.id, logistics_sync_booking_state = s.state
          FROM logistics_sync_shipment s
         WHERE s.picking_id = p.id AND s.carrier_id = %(method)s
           AND substr(s.name, 11)::int BETWEEN %(start)s AND %(end)s
        """,
        params,
    )
    # shipments on their way were handed over in the last three days, scanned 7 h later
    cr.execute(
        """
        UPDATE logistics_sync_shipment
           SET dispatched_at = t.at, booked_at = t.at - interval '50 minutes',
               status_at = t.at + interval '7 hours'
          FROM (SELECT id, (now() at time zone 'UTC') - interval '1 hour' * (8 + id %% 64) AS at
                  FROM logistics_sync_shipment) t
         WHERE t.id = logistics_sync_shipment.id AND status = 'in_transit'
           AND carrier_id = %(method)s AND substr(name, 11)::int BETWEEN %(start)s AND %(end)s
        """,
        params,
    )
    # tracking: picked up, two hub scans, out for delivery, delivered (on the way: the
    # pick-up and the first hub scan)
    cr.execute(
        """
        INSERT INTO logistics_sync_shipment_milestone
            (shipment_id, picking_id, company_id, milestone, code, occurred_at, source,
             dedup_key, create_uid, write_uid, create_date, write_date)
        SELECT s.id, s.picking_id, s.company_id, m.milestone, m.code, m.at, 'poll',
               md5(s.id || m.code || m.at::text), 1, 1, m.at, m.at
          FROM logistics_sync_shipment s
          CROSS JOIN LATERAL (VALUES
                ('picked_up', 'PU', s.dispatched_at),
                ('in_transit', 'ITR', s.dispatched_at + interval '7 hours'),
                ('in_transit', 'ITR2', CASE WHEN s.delivered_at IS NOT NULL
                                            THEN s.dispatched_at + interval '14 hours' END),
                ('out_for_delivery', 'OFD', s.delivered_at - interval '3 hours'),
                ('delivered', 'DLV', s.delivered_at)) m (milestone, code, at)
         WHERE s.carrier_id = %(method)s AND m.at IS NOT NULL
           AND substr(s.name, 11)::int BETWEEN %(start)s AND %(end)s
        """,
        params,
    )
    cr.execute(
        """
        INSERT INTO logistics_sync_inventory_snapshot
            (external_id, system_id, company_id, warehouse_id, kind, source, state, taken_at,
             create_uid, write_uid, create_date, write_date)
        VALUES ('BENCH-SNAP-' || %(round)s, %(wms)s, %(company)s, %(warehouse)s, 'full', 'api',
                'reconciled', now() at time zone 'UTC', 1, 1,
                now() at time zone 'UTC', now() at time zone 'UTC')
        RETURNING id
        """,
        {**params, "round": round_no},
    )
    snapshot_id = cr.fetchone()[0]
    cr.execute(
        """
        INSERT INTO logistics_sync_inventory_reconciliation
            (name, snapshot_id, system_id, company_id, warehouse_id, state, line_count,
             create_uid, write_uid, create_date, write_date)
        VALUES ('BENCH-REC-' || %(round)s, %(snapshot)s, %(wms)s, %(company)s, %(warehouse)s,
                'review', %(lines)s, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC')
        RETURNING id
        """,
        {**params, "round": round_no, "snapshot": snapshot_id, "lines": lines},
    )
    reconciliation_id = cr.fetchone()[0]
    cr.execute(
        "UPDATE logistics_sync_inventory_snapshot SET reconciliation_id = %s WHERE id = %s",
        (reconciliation_id, snapshot_id),
    )
    cr.execute(
        """
        INSERT INTO logistics_sync_inventory_reconciliation_line
            (reconciliation_id, company_id, system_id, product_id, location_id, wms_qty,
             odoo_qty, difference, unit_cost, value, abs_value, status, state)
        SELECT %(reconciliation)s, %(company)s, %(wms)s,
               (%(products)s::int[])[1 + g %% array_length(%(products)s::int[], 1)],
               (%(locations)s::int[])[1 + g / array_length(%(products)s::int[], 1)],
               10 + d, 10, d, 2.5, 2.5 * d, abs(2.5 * d),
               CASE WHEN d = 0 THEN 'matched' WHEN g %% 20 = 0 THEN 'review'
                    ELSE 'within' END,
               CASE WHEN g %% 20 = 0 THEN 'pending' ELSE 'applied' END
          FROM (SELECT g, CASE WHEN g %% 20 = 0 THEN 5 - g %% 3 ELSE g %% 2 END AS d
                  FROM generate_series(0, %(lines)s - 1) g) x
        """,
        {**params, "reconciliation": reconciliation_id, "lines": lines},
    )


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
               (SELECT count(*) FROM logistics_sync_message_attempt),
               (SELECT count(*) FROM logistics_sync_shipment),
               (SELECT count(*) FROM logistics_sync_shipment_milestone),
               (SELECT count(*) FROM logistics_sync_inventory_reconciliation_line)
        """
    )
    return cr.fetchone()


def measure_lanes(registry, carrier_system_id, runs):
    """In-process: the lane statistics (transit times, scan gaps) of the bench carrier and
    the two hourly crons that flag slow and silent shipments, in their steady state (their
    exceptions already open: each run updates them, rolled back after each run). Returns
    timings and what they found."""
    from odoo import fields

    figures = {}

    def stats(method):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            Transit = env["logistics.sync.transit"]
            system = env["logistics.sync.system"].browse(carrier_system_id)
            lanes = getattr(Transit, method)(fields.Datetime.now(), system)
            figures[method] = (len(lanes), sum(lane["n"] for lane in lanes.values()))

    def cron(method):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            figures[method] = getattr(env["logistics.sync.transit"], method)()
            cr.rollback()

    return {
        method: timed(lambda m=method, f=function: f(m), runs)
        for method, function in (
            ("_lane_stats", stats),
            ("_scan_gap_stats", stats),
            ("_cron_flag_slow", cron),
            ("_cron_flag_silent", cron),
        )
    }, figures


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
    parser.add_argument("--shipments", type=int, default=10_000)
    parser.add_argument("--reconciliation-lines", type=int, default=10_000)
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
        logistics = setup_logistics(env, system_ids[0])
        cr.commit()

    results = []
    filled_events = filled_exceptions = filled_shipments = 0
    for fraction in (10, 1):
        target_events = args.events // fraction
        target_exceptions = args.exceptions // fraction
        target_shipments = args.shipments // fraction
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
            fill_logistics(
                cr,
                logistics,
                filled_shipments + 1,
                target_shipments - filled_shipments,
                args.reconciliation_lines // fraction,
                fraction,
            )
            cr.commit()
            env = api.Environment(cr, SUPERUSER_ID, {})
            # the fill back-dates rows over 30 days, which live traffic never does: roll
            # every hour up again, as the cron would have done while they arrived
            env["ir.config_parameter"].set_param("logistics_sync_monitor.rollup_until", False)
            env["logistics.sync.monitor.rollup"]._cron_rollup()
            # the hourly crons flag the slow and silent shipments (their exceptions feed
            # the 'slow or silent' tile); timed below in their steady state
            env["logistics.sync.transit"].with_context(tracking_disable=True)._cron_flag_slow()
            env["logistics.sync.transit"].with_context(tracking_disable=True)._cron_flag_silent()
            cr.commit()
            sizes = counts(cr)
        filled_events, filled_exceptions = target_events, target_exceptions
        filled_shipments = target_shipments
        with registry.cursor() as cr:
            cr._cnx.autocommit = True
            cr.execute("VACUUM ANALYZE")
        fill_seconds = time.perf_counter() - started
        with odoo_server(args.config, args.database, args.server_log, job_runner=False) as base:
            figures = {}
            dashboard, metrics = measure(base, token, args.runs, figures)
        lanes = measure_lanes(registry, logistics["carrier_system"], args.runs)
        results.append((sizes, fill_seconds, dashboard, metrics, figures, lanes))

    print(
        "rows: messages / events / exceptions / attempts / shipments / milestones / "
        "reconciliation lines; times in ms: median (min-max)"
    )
    for sizes, fill_seconds, dashboard, metrics, figures, (lane_times, found) in results:
        print(" / ".join(f"{size:,}" for size in sizes) + f"  (filled in {fill_seconds:.0f} s)")
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
        for method, (median, low, high) in lane_times.items():
            if method.startswith("_cron"):
                what = f"{found[method]} shipments flagged"
            else:
                what = "{} lanes, {} values".format(*found[method])
            print(f"    {method + ':':<36}{median:7.1f} ms ({low:.1f}-{high:.1f})  {what}")
    small, large = results
    print(
        f"growth for 10x the rows: dashboard x{large[2][0] / small[2][0]:.2f}, "
        f"metrics x{large[3][0] / small[3][0]:.2f}, "
        + ", ".join(
            f"{method} x{large[5][0][method][0] / small[5][0][method][0]:.2f}"
            for method in large[5][0]
        )
    )
    ok = large[2][0] < 1000 and large[3][0] < 500
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
