"""Per-event cost as the outbox grows: 1,000 events measured when the tables hold about
1,000, 10,000 and 100,000 events of the same subscription.

    ./dev bench scale [--sizes 1000,10000,100000] [--window 1000] [--e2e-windows 3]

One HTTP subscription to a local receiver. Before each measurement the outbox is grown to
the size named, minus the windows about to be measured: events already routed, their
messages delivered, one attempt each and one finished queue_job job per 50 events,
written by SQL in bulk (as months of traffic leave them; ANALYZE afterwards, as autovacuum
would). The smallest size holds fewer events than its windows: it is measured from an
outbox of the warm-up's events and grows by the windows (both counts are printed). Then
windows of new events (``--window``, over 250 aggregates) are measured:

- stage by stage, in this process, each stage committed as the jobs commit: emission into
  the outbox (transactions of 100 events), routing (the routing job's method, per 100
  events), delivery (the delivery job's method until nothing is ready);
- end to end through a real Odoo server and its queue_job runner, ``--e2e-windows`` windows
  one after the other: from the first emission until the receiver got the last message.

Prints, at every size, the per-event time of each stage over its whole window and in its
median transaction (a scan of what grows slows every transaction, a stall of the shared
machine one of them), end to end the median of the windows; then the ratios of the
largest size's per-event times to the smallest's (target <= 1.2): a ratio that grows names
the stage that scans what grows.
"""

import argparse
import statistics
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
    parser.add_argument(
        "--e2e-windows", type=int, default=3, help="windows end to end per size (median)"
    )
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

    def emit(count, label, chunks=None):
        """Emit ``count`` events in transactions of 100; return their ids. ``chunks`` gets
        each transaction's (seconds, events)."""
        ids = []
        for offset in range(0, count, 100):
            start = time.perf_counter()
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                Event = env["logistics.sync.event"]
                for number in range(offset, min(count, offset + 100)):
                    partner = env["res.partner"].browse(partner_ids[number % len(partner_ids)])
                    payload = {"shipment_id": f"{label}-{number}", "carrier": tag}
                    ids.append(Event._emit(TYPE, partner, payload).id)
                cr.commit()
            if chunks is not None:
                chunks.append((time.perf_counter() - start, min(count, offset + 100) - offset))
        return ids

    def stages(count):
        """Per stage (emission, routing, delivery) in this process, for ``count`` events:
        ``(seconds, [(seconds, events) of each transaction])``."""
        emitting, routing, delivering = [], [], []
        start = time.perf_counter()
        ids = emit(count, f"stages-{uuid.uuid4().hex[:4]}", emitting)
        emitted = time.perf_counter()
        for offset in range(0, len(ids), 100):
            batch = ids[offset : offset + 100]
            begun = time.perf_counter()
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["logistics.sync.event"].browse(batch).route()
                cr.commit()
            routing.append((time.perf_counter() - begun, len(batch)))
        routed = time.perf_counter()
        while True:
            begun = time.perf_counter()
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                result = env["logistics.sync.flow"].browse(flow_id).deliver_pending()
                cr.commit()
            if result == "nothing to send":
                break
            sent = int(result.split("/", 1)[0])
            delivering.append((time.perf_counter() - begun, sent))
        delivered = time.perf_counter()
        with registry.cursor() as cr:
            # the jobs the routing enqueued found their work done: the runner need not
            cr.execute(
                "DELETE FROM queue_job WHERE state = 'pending' AND channel LIKE %s",
                (f"root.logistics_sync.%{tag}",),
            )
            cr.execute("DELETE FROM queue_job WHERE state = 'pending' AND method_name = 'route'")
            cr.commit()
        return (
            (emitted - start, emitting),
            (routed - emitted, routing),
            (delivered - routed, delivering),
        )

    def end_to_end():
        """``--e2e-windows`` windows through one server and runner, each
        ``(seconds emitting, seconds until the receiver got the last, messages received)``."""
        label = f"e2e-{uuid.uuid4().hex[:4]}"
        windows = []
        with odoo_server(args.config, args.database, args.server_log):
            # warm-up: the clock starts once the runner has delivered one message end to end
            before = len(receiver.received())
            emit(1, f"{label}-warm-up")
            deadline = time.monotonic() + 120
            while len(receiver.received()) == before and time.monotonic() < deadline:
                time.sleep(0.05)
            for window in range(args.e2e_windows):
                before = len(receiver.received())
                start = time.perf_counter()
                emit(args.window, f"{label}-{window}")
                emitted = time.perf_counter() - start
                deadline = time.monotonic() + args.timeout
                while (
                    len(receiver.received()) - before < args.window and time.monotonic() < deadline
                ):
                    time.sleep(0.05)
                total = time.perf_counter() - start
                windows.append((emitted, total, len(receiver.received()) - before))
        return windows

    def outbox():
        with registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM logistics_sync_message WHERE flow_id = %s", (flow_id,))
            return cr.fetchone()[0]

    def ms(seconds, events):
        return seconds / events * 1000 if events else 0.0

    stages(args.window // 10)  # the first transactions load caches: not measured
    rows = []
    names = ("emission", "routing", "delivery", "end to end")
    for size in sizes:
        with registry.cursor() as cr:
            # the measured windows count towards the size: grow to the size minus them
            measured = (1 + args.e2e_windows) * args.window
            added = grow(cr, flow_id, system_id, size - measured, tag)
            cr.commit()
        began = outbox()
        measures = stages(args.window)
        windows = end_to_end()
        with registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM logistics_sync_message_attempt")
            attempts = cr.fetchone()[0]
            cr.execute("SELECT count(*) FROM queue_job")
            jobs = cr.fetchone()[0]
        ended = outbox()
        # the window's total, and the median of its transactions (delivery jobs, e2e
        # windows): a scan of what grows is in every transaction, a stall of the shared
        # machine in one
        whole = [ms(seconds, args.window) for seconds, _chunks in measures]
        whole.append(statistics.median(ms(total, args.window) for _e, total, _got in windows))
        median = [
            statistics.median(ms(seconds, events) for seconds, events in chunks)
            for _seconds, chunks in measures
        ]
        median.append(whole[3])
        rows.append((size, whole, median))
        print(
            f"size {size:>7} (outbox events of the subscription {began} when measuring began, "
            f"{ended} when it ended; attempts {attempts}, queue_job rows {jobs}; {added} added "
            f"by SQL): ms per event, whole window (median transaction): "
            + ", ".join(
                f"{name} {w:.3f} ({m:.3f})"
                for name, w, m in zip(names[:3], whole, median, strict=False)
            )
            + f"; end to end through the runner, median of {len(windows)} windows "
            f"{whole[3]:.3f} ("
            + ", ".join(f"{ms(total, args.window):.3f}" for _e, total, _got in windows)
            + "; emission part "
            + ", ".join(f"{ms(emitted, args.window):.3f}" for emitted, _t, _got in windows)
            + f"; receiver got {', '.join(str(got) for _e, _t, got in windows)} "
            f"of {args.window} each)",
            flush=True,
        )
    receiver.__exit__(None, None, None)
    first, last = rows[0], rows[-1]
    for label, index in (("whole windows", 1), ("median transactions", 2)):
        ratios = [last[index][i] / first[index][i] for i in range(4)]
        print(
            f"ratio per-event time {last[0]} / {first[0]}, {label}: "
            + ", ".join(f"{name} {ratio:.2f}" for name, ratio in zip(names, ratios, strict=True))
            + " (target <= 1.2)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
