"""Cost of emitting several events in one call: ``_emit_many`` vs one ``_emit`` per event.

A transaction that validates a batch of pickings or confirms a batch of orders emits one
event per record; the business hooks now hand them to ``_emit_many``, one statement for
all. This script emits ``--batch`` events about as many aggregates per transaction
(``--transactions`` of them per side), once with ``_emit_many`` and once with an
``_emit`` per event, interleaved in rounds so both sides see the same machine load, in one
process on one database. Each transaction is committed, as in production (the routing
job is created at the commit; no job runner runs here), then the events and jobs are
deleted.

    ./dev bench emit_many [--batch 25] [--transactions 200] [--rounds 4]

Prints the time per event of each side (the wall time of the transaction, PostgreSQL's
work included) and the ratio many / one by one.
"""

import argparse
import sys
import time

from benchlib import emit_events

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

TYPE = "shipment.dispatched"


def payload(marker):
    return {"shipment_id": marker, "carrier": "bench"}


def emit(registry, partner_ids, batch, first, many):
    """One committed transaction of ``batch`` events; its wall time."""
    start = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        partners = env["res.partner"].browse(
            [partner_ids[(first + i) % len(partner_ids)] for i in range(batch)]
        )
        emissions = [(partner, payload(f"e{first + i}")) for i, partner in enumerate(partners)]
        emit_events(env["logistics.sync.event"], TYPE, emissions, one_by_one=not many)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--transactions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        partner_ids = (
            env["res.partner"]
            .create([{"name": f"Emit bench aggregate {i}"} for i in range(1000)])
            .ids
        )
        last_event = env["logistics.sync.event"].search([], limit=1).id or 0
        last_job = env["queue.job"].search([], order="id desc", limit=1).id or 0
    per_round = args.transactions // args.rounds
    timings = {"many": 0.0, "one": 0.0}
    count = 0
    # warm-up, both sides, not timed
    for many in (True, False):
        emit(registry, partner_ids, args.batch, count, many)
        count += args.batch
    for round_index in range(args.rounds):
        sides = ["many", "one"] if round_index % 2 == 0 else ["one", "many"]
        for side in sides:
            for _transaction in range(per_round):
                timings[side] += emit(registry, partner_ids, args.batch, count, side == "many")
                count += args.batch
    with registry.cursor() as cr:
        cr.execute("DELETE FROM queue_job WHERE id > %s", [last_job])
        cr.execute("SELECT count(*) FROM logistics_sync_event WHERE id > %s", [last_event])
        (written,) = cr.fetchone()
        cr.execute("DELETE FROM logistics_sync_event WHERE id > %s", [last_event])
    events = per_round * args.rounds * args.batch
    print(
        f"events per side: {events} in {per_round * args.rounds} committed transactions of "
        f"{args.batch} events about {args.batch} aggregates, rounds: {args.rounds}; events "
        f"written in all (warm-up included): {written}"
    )
    for side, label in (("many", "_emit_many, one call "), ("one", "_emit, one per event")):
        print(f"{label}: {timings[side]:.2f} s ({timings[side] / events * 1000:.3f} ms/event)")
    print(f"ratio many / one by one: {timings['many'] / timings['one']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
