"""Outbound delivery throughput: the real job runner against a plain signing POST loop.

Emits N events (default 2,000, one aggregate each) into the outbox of a benchmark database,
with one HTTP subscription to a local receiver, and lets a real Odoo server with its
queue_job runner route and deliver them. Then, in the same run and to the same receiver, a
plain loop signs and POSTs the same number of payloads over one kept-alive session.

    ./dev bench webhook_fanout [--events 2000] [--chunk 100]

Prints deliveries per second for both, the ratio (target >= 0.25), how many messages the
receiver never got (must be 0) and how many ids it saw more than once.
"""

import argparse
import sys
import time
import uuid
from collections import Counter

import requests
from benchlib import odoo_server

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry


def setup(env, receiver_url, run):
    env["ir.config_parameter"].set_param("logistics_sync_webhook.allowed_networks", "127.0.0.1/32")
    system = env["logistics.sync.system"].create(
        {"name": f"Bench receiver {run}", "code": f"bench_{run}", "kind": "wms"}
    )
    flow = env["logistics.sync.flow"].create(
        {
            "name": f"Bench fan-out {run}",
            "system_id": system.id,
            "event_type_ids": [
                (6, 0, env["logistics.sync.event.type"]._get("shipment.dispatched").ids)
            ],
            "transport": "http",
            "url": receiver_url,
            "breaker_threshold": 1000,
        }
    )
    env["logistics.sync.signing.key"]._generate(flow)
    return flow


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--chunk", type=int, default=100, help="events per transaction")
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--server-log", default="/tmp/logistics_sync_bench_server.log")
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    # importable once Odoo is set up
    from odoo.addons.logistics_sync_webhook import signing
    from odoo.addons.logistics_sync_webhook.tests.receiver import Receiver

    receiver = Receiver().__enter__()

    def seen():
        return Counter(r["headers"].get("webhook-id") for r in receiver.received())

    run = uuid.uuid4().hex[:6]
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        flow = setup(env, receiver.url(), run)
        partners = env["res.partner"].create(
            [{"name": f"Bench aggregate {run} {i}"} for i in range(args.events + 1)]
        )
        warmup_id, partner_ids, flow_id = partners.ids[0], partners.ids[1:], flow.id
        cr.commit()

    with odoo_server(args.config, args.database, args.server_log):
        # Warm-up: the clock starts once the runner has delivered one message end to end, so
        # the server's start-up is not counted against it.
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["logistics.sync.event"]._emit(
                "shipment.dispatched", env["res.partner"].browse(warmup_id), {"shipment_id": "w"}
            )
        deadline = time.monotonic() + 120
        while not receiver.received() and time.monotonic() < deadline:
            time.sleep(0.05)
        warmed = len(receiver.received())
        start = time.perf_counter()
        for offset in range(0, args.events, args.chunk):
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                Event = env["logistics.sync.event"]
                for partner in env["res.partner"].browse(partner_ids[offset : offset + args.chunk]):
                    Event._emit(
                        "shipment.dispatched", partner, {"shipment_id": f"SHP-{partner.id}"}
                    )
                cr.commit()
        emitted_seconds = time.perf_counter() - start
        deadline = time.monotonic() + args.timeout
        while len(receiver.received()) < args.events + warmed and time.monotonic() < deadline:
            time.sleep(0.05)
        odoo_seconds = time.perf_counter() - start

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        messages = env["logistics.sync.message"].search(
            [("flow_id", "=", flow_id), ("event_id.aggregate_id", "in", partner_ids)]
        )
        expected = set(messages.mapped("uid"))
        bodies = [(m.uid, m._body()) for m in messages]
        secrets = env["logistics.sync.flow"].browse(flow_id).signing_key_ids._secrets()
    ids = seen()
    got = {key for key in ids if key in expected}
    lost = len(expected) - len(got) + max(0, args.events - len(expected))
    duplicates = sum(1 for key in got if ids[key] > 1)

    session = requests.Session()
    start = time.perf_counter()
    for message_id, body in bodies:
        headers = {"Content-Type": "application/json"}
        headers.update(signing.headers(f"plain_{message_id}", int(time.time()), body, secrets))
        session.post(receiver.url(), data=body, headers=headers, timeout=15).raise_for_status()
    plain_seconds = time.perf_counter() - start

    odoo_rate = args.events / odoo_seconds
    plain_rate = len(bodies) / plain_seconds
    print(f"events: {args.events} (one aggregate each), {args.chunk} per transaction")
    print(
        f"odoo (outbox -> routing job -> delivery jobs, real runner): "
        f"{odoo_seconds:.2f} s, {odoo_rate:.0f} deliveries/s"
    )
    print(f"  of which emitting the events into the outbox: {emitted_seconds:.2f} s")
    print(f"plain loop (sign + POST, one session): {plain_seconds:.2f} s, {plain_rate:.0f} /s")
    print(f"ratio odoo/plain: {odoo_rate / plain_rate:.3f} (target >= 0.25)")
    print(f"lost: {lost} (must be 0), duplicate ids seen by the receiver: {duplicates}")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
