"""Inbound webhook acceptance against a trivial JSON route of the same Odoo server.

Starts one Odoo server (threaded, job runner off so processing does not compete with
acceptance) on a benchmark database, then, in interleaved rounds from the same client
threads: GET /web/health (Odoo's trivial JSON route) and POST signed webhooks
(Standard Webhooks, signed by the ``standardwebhooks`` library as a partner would, each a
new ``order.created`` message) to /logistics_sync/webhook/<code>. Then 1,000 copies of one
message are posted concurrently and the stored message is processed twice, as a duplicated
job would be. Accepting a message creates no job of its own: the system's one drain job
(pending, since the runner is off) will apply them all.

    ./dev bench inbound_webhooks [--requests 1000] [--threads 4] [--rounds 2]

Prints requests per second and p50/p99 latency for both, the ratio webhook/trivial
(target >= 0.6), and what the 1,000 duplicates produced (must be one stored message, one
order).
"""

import argparse
import json
import sys
import uuid
from collections import Counter
from datetime import datetime, timezone

from benchlib import hammer, odoo_server, percentile

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--requests", type=int, default=1000, help="per side and round")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duplicates", type=int, default=1000)
    parser.add_argument("--server-log", default="/tmp/logistics_sync_bench_inbound.log")
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    from standardwebhooks.webhooks import Webhook

    from odoo.addons.logistics_sync_webhook import signing

    registry = Registry(args.database)
    run = uuid.uuid4().hex[:6]
    secret = signing.generate_hmac_secret()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        system = env["logistics.sync.system"].create(
            {
                "name": f"Bench marketplace {run}",
                "code": f"bench_in_{run}",
                "kind": "marketplace",
                "inbound_auth": "standard",
            }
        )
        env["logistics.sync.secret"].create(
            {"system_id": system.id, "name": "inbound_signing", "value": secret}
        )
        env["product.product"].create(
            {"name": "Bench SKU", "default_code": f"BENCH-{run}", "type": "consu"}
        )
        code = system.code
        cr.commit()

    partner = Webhook(secret)

    def signed(msg_id, external_id):
        body = json.dumps(
            {
                "type": "order.created",
                "data": {
                    "external_id": external_id,
                    "partner": {"name": "Bench buyer", "email": f"buyer-{run}@example.com"},
                    "lines": [{"sku": f"BENCH-{run}", "quantity": 1}],
                },
            }
        )
        now = datetime.now(timezone.utc)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": partner.sign(msg_id, now, body),
        }
        return body.encode(), headers

    def trivial(session, _number):
        return session.get(f"{base}/web/health", timeout=30).status_code

    def webhook(session, number):
        body, headers = signed(f"msg_{run}_{number}_{uuid.uuid4().hex[:6]}", f"EXT-{run}-{number}")
        return session.post(hook_url, data=body, headers=headers, timeout=30).status_code

    results = {"trivial": [0.0, [], Counter()], "webhook": [0.0, [], Counter()]}
    with odoo_server(args.config, args.database, args.server_log, job_runner=False) as base:
        hook_url = f"{base}/logistics_sync/webhook/{code}"
        hammer(trivial, 40, 4)  # warm-up, both routes, not counted
        hammer(webhook, 40, 4)
        for round_index in range(args.rounds):
            sides = ["trivial", "webhook"] if round_index % 2 == 0 else ["webhook", "trivial"]
            for side in sides:
                function = trivial if side == "trivial" else webhook
                seconds, latencies, codes = hammer(function, args.requests, args.threads)
                results[side][0] += seconds
                results[side][1].extend(latencies)
                results[side][2].update(codes)
        body, headers = signed(f"msg_{run}_duplicate", f"EXT-{run}-duplicate")

        def duplicate(session, _number):
            return session.post(hook_url, data=body, headers=headers, timeout=30).status_code

        _seconds, _latencies, duplicate_codes = hammer(duplicate, args.duplicates, 8)

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        stored = env["logistics.sync.inbound.message"].search(
            [("system_id.code", "=", code), ("message_id", "=", f"msg_{run}_duplicate")]
        )
        stored.process()
        stored.process()  # a duplicated job changes nothing
        orders = env["logistics.sync.xref"].search_count(
            [
                ("system_id.code", "=", code),
                ("res_model", "=", "sale.order"),
                ("external_id", "=", f"EXT-{run}-duplicate"),
            ]
        )
        state = stored.state
        # the runner is off: every accepted message waits for the one drain job of the system
        drain_jobs = env["queue.job"].search_count(
            [
                ("identity_key", "=", f"logistics_sync_inbound_drain_{stored.system_id.id}"),
                ("state", "=", "pending"),
            ]
        )
        waiting = env["logistics.sync.inbound.message"].search_count(
            [("system_id.code", "=", code), ("state", "=", "received")]
        )
        cr.commit()

    print(
        f"client threads: {args.threads}, rounds: {args.rounds}, requests per side: "
        f"{args.requests * args.rounds}"
    )
    for side in ("trivial", "webhook"):
        seconds, latencies, codes = results[side]
        rate = len(latencies) / seconds
        results[side].append(rate)
        print(
            f"{side:8}: {rate:6.0f} req/s, p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, statuses {dict(codes)}"
        )
    print(
        f"ratio webhook/trivial: {results['webhook'][3] / results['trivial'][3]:.3f} "
        f"(target >= 0.6)"
    )
    print(
        f"{args.duplicates} copies of one message: statuses {dict(duplicate_codes)}, "
        f"stored {len(stored)}, state {state}, orders linked {orders} (must be 1 and 1)"
    )
    print(f"messages waiting: {waiting}, drain jobs pending for them: {drain_jobs}")
    return 0 if len(stored) == 1 and orders == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
