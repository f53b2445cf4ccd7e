"""Per-event cost as the outbox grows: 1,000 events measured when the tables hold 1,000,
10,000 and 100,000 events of the same subscription.

    ./dev bench scale [--sizes 1000,10000,100000] [--window 1000]

One HTTP subscription to a local receiver. Before each measurement the outbox is grown to
the size named: events already routed, their messages delivered, one attempt each and one
finished queue_job job per 50 events, written by SQL in bulk (as months of traffic leave
them; ANALYZE afterwards, as autovacuum would). Then a window of new events (``--window``,
over 250 aggregates) is measured twice:

- stage by stage, in this process, each stage committed as the jobs commit: emission into
  the outbox (transactions of 100 events), routing (the routing job's method, per 100
  events), delivery (the delivery job's method until nothing is ready);
- end to end through a real Odoo server and its queue_job runner: from the first emission
  until the receiver got the last message.

Prints the per-event time of each stage and end to end at every size, and the ratio of the
largest size's per-event time to the smallest's (target <= 1.2): a ratio that grows names
the stage that scans what grows.
"""

import argparse
import sys
import time
import uuid

from benchlib import odoo_server

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

TYPE = "shipment.dispatched"


def grow(cr, flow_id, system_id, target, tag):
    """Add routed events, delivered messages, their attempts and finished jobs until the
    subscription has ``target`` events."""
    cr.execute("SELECT count(*) FROM logistics_sync_message WHERE flow_id = %s", (flow_id,))
    missing = target - cr.fetchone()[0]
    if missing <= 0:
        return 0
    batch = f"scale fill {tag} {uuid.uuid4().hex[:6]}"
    cr.execute("SELECT id FROM logistics_sync_event_type WHERE code = %s", (TYPE,))
    type_id = cr.fetchone()[0]
    cr.execute(
        """
        INSERT INTO logistics_sync_event
            (uid, event_type_id, type_code, aggregate_model, aggregate_id,
             aggregate_canonical_id, aggregate_ref, sequence, payload, correlation_id,
             company_id, state, create_uid, create_date, write_uid, write_date)
        SELECT gen_random_uuid()::text, %(type)s, %(code)s, 'res.partner',
               1000000000 + (random() * 1000000000)::int + g %% 1000, gen_random_uuid()::text,
               %(batch)s, 1 + g / 1000,
               jsonb_build_object('shipment_id', 'FILL-' || g, 'carrier', %(tag)s),
               gen_random_uuid()::text, 1, 'routed', 1, now() at time zone 'UTC' - interval '1 day',
               1, now() at time zone 'UTC' - interval '1 day'
          FROM generate_series(1, %(n)s) g
        ON CONFLICT DO NOTHING
        """,
        {"type": type_id, "code": TYPE, "batch": batch, "tag": tag, "n": missing},
    )
    cr.execute(
        """
        INSERT INTO logistics_sync_message
            (uid, event_id, flow_id, system_id, company_id, type_code, aggregate_canonical_id,
             payload, state, attempt_count, batched, delivered_at, last_status_code,
             create_uid, create_date, write_uid, write_date)
        SELECT gen_random_uuid()::text, e.id, %(flow)s, %(system)s, 1, e.type_code,
               e.aggregate_canonical_id, e.payload, 'sent', 1, false, e.create_date, 200,
               1, e.create_date, 1, e.create_date
          FROM logistics_sync_event e
         WHERE e.aggregate_ref = %(batch)s
        """,
        {"flow": flow_id, "system": system_id, "batch": batch},
    )
    cr.execute(
        """
        INSERT INTO logistics_sync_message_attempt
            (message_id, company_id, status_code, duration_ms, outcome, response_excerpt,
             attempted_at, create_uid, create_date, write_uid, write_date)
        SELECT m.id, 1, 200, 12, 'delivered', '{"ok": true}', m.create_date,
               1, m.create_date, 1, m.create_date
          FROM logistics_sync_message m
          JOIN logistics_sync_event e ON e.id = m.event_id
         WHERE e.aggregate_ref = %(batch)s
        """,
        {"batch": batch},
    )
    # finished jobs stay in queue_job until the removal interval (30 days by default)
    cr.execute(
        """
        SELECT column_name FROM information_schema.columns
         WHERE table_name = 'queue_job' AND column_name NOT IN ('id', 'uuid')
        """
    )
    columns = ", ".join(row[0] for row in cr.fetchall())
    cr.execute(
        f"""
        INSERT INTO queue_job (uuid, {columns})
        SELECT gen_random_uuid()::text, {columns}
          FROM (SELECT * FROM queue_job WHERE state = 'done' ORDER BY id DESC LIMIT 2) j,
               generate_series(1, %s) g
        """,  # noqa: S608 - column names from the catalog
        (max(1, missing // 100),),
    )
    for table in (
        "logistics_sync_event",
        "logistics_sync_message",
        "logistics_sync_message_attempt",
        "queue_job",
    ):
        cr.execute(f"ANALYZE {table}")  # noqa: S608 - fixed table names
    return missing


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--window", type=int, default=1000)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--server-log", default="/tmp/logistics_sync_bench_scale.log")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    from odoo.addons.logistics_sync_webhook.tests.receiver import Receiver

    receiver = Receiver().__enter__()
    tag = f"scale_{uuid.uuid4().hex[:6]}"
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        env["ir.config_parameter"].set_param(
            "logistics_sync_webhook.allowed_networks", "127.0.0.1/32"
        )
        system = env["logistics.sync.system"].create(
            {"name": f"Bench {tag}", "code": tag, "kind": "wms"}
        )
        flow = env["logistics.sync.flow"].create(
            {
                "name": f"Bench {tag}",
                "system_id": system.id,
                "event_type_ids": [(6, 0, env["logistics.sync.event.type"]._get(TYPE).ids)],
                "transport": "http",
                "url": receiver.url(),
                "breaker_threshold": 1000,
            }
        )
        env["logistics.sync.signing.key"]._generate(flow)
        partner_ids = (
            env["res.partner"]
            .create([{"name": f"Bench {tag} aggregate {i}"} for i in range(250)])
            .ids
        )
        flow_id, system_id = flow.id, system.id
        cr.commit()

    def emit(count, label):
        """Emit ``count`` events in transactions of 100; return their ids."""
        ids = []
        for offset in range(0, count, 100):
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                Event = env["logistics.sync.event"]
                for number in range(offset, min(count, offset + 100)):
                    partner = env["res.partner"].browse(partner_ids[number % len(partner_ids)])
                    payload = {"shipment_id": f"{label}-{number}", "carrier": tag}
                    ids.append(Event._emit(TYPE, partner, payload).id)
                cr.commit()
        return ids

    def stages(count):
        """(emission, routing, delivery) seconds for ``count`` events, in this process."""
        start = time.perf_counter()
        ids = emit(count, f"stages-{uuid.uuid4().hex[:4]}")
        emitted = time.perf_counter()
        for offset in range(0, len(ids), 100):
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["logistics.sync.event"].browse(ids[offset : offset + 100]).route()
                cr.commit()
        routed = time.perf_counter()
        while True:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                result = env["logistics.sync.flow"].browse(flow_id).deliver_pending()
                cr.commit()
            if result == "nothing to send":
                break
        delivered = time.perf_counter()
        with registry.cursor() as cr:
            # the jobs the routing enqueued found their work done: the runner need not
            cr.execute(
                "DELETE FROM queue_job WHERE state = 'pending' AND channel LIKE %s",
                (f"root.logistics_sync.%{tag}",),
            )
            cr.execute("DELETE FROM queue_job WHERE state = 'pending' AND method_name = 'route'")
            cr.commit()
        return emitted - start, routed - emitted, delivered - routed

    def end_to_end():
        label = f"e2e-{uuid.uuid4().hex[:4]}"
        before = len(receiver.received())
        with odoo_server(args.config, args.database, args.server_log):
            # warm-up: the clock starts once the runner has delivered one message end to end
            emit(1, f"{label}-warm-up")
            deadline = time.monotonic() + 120
            while len(receiver.received()) == before and time.monotonic() < deadline:
                time.sleep(0.05)
            before = len(receiver.received())
            start = time.perf_counter()
            emit(args.window, label)
            emitted = time.perf_counter() - start
            deadline = time.monotonic() + args.timeout
            while len(receiver.received()) - before < args.window and time.monotonic() < deadline:
                time.sleep(0.05)
            total = time.perf_counter() - start
        got = len(receiver.received()) - before
        return emitted, total, got

    stages(args.window // 10)  # the first transactions load caches: not measured
    rows = []
    for size in sizes:
        with registry.cursor() as cr:
            # the measured windows count towards the size: grow to size minus two windows
            added = grow(cr, flow_id, system_id, size - 2 * args.window, tag)
            cr.commit()
        emission, routing, delivering = stages(args.window)
        e2e_emitted, e2e_total, got = end_to_end()
        with registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM logistics_sync_message WHERE flow_id = %s", (flow_id,))
            total_events = cr.fetchone()[0]
            cr.execute("SELECT count(*) FROM logistics_sync_message_attempt")
            attempts = cr.fetchone()[0]
            cr.execute("SELECT count(*) FROM queue_job")
            jobs = cr.fetchone()[0]
        per = [value / args.window * 1000 for value in (emission, routing, delivering, e2e_total)]
        rows.append((size, per))
        print(
            f"size {size:>7} (outbox events of the subscription {total_events}, attempts "
            f"{attempts}, queue_job rows {jobs}; {added} added by SQL): ms per event: "
            f"emission {per[0]:.3f}, routing {per[1]:.3f}, delivery {per[2]:.3f}; end to end "
            f"through the runner {per[3]:.3f} (emission part {e2e_emitted / args.window * 1000:.3f}"
            f"; receiver got {got}/{args.window})",
            flush=True,
        )
    receiver.__exit__(None, None, None)
    first, last = rows[0], rows[-1]
    names = ("emission", "routing", "delivery", "end to end")
    ratios = [last[1][i] / first[1][i] for i in range(4)]
    print(
        f"ratio per-event time {last[0]} / {first[0]}: "
        + ", ".join(f"{name} {ratio:.2f}" for name, ratio in zip(names, ratios, strict=True))
        + " (target <= 1.2)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
