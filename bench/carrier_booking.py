"""Carrier booking off the user's path: users' validation time with a slow carrier vs none.

Validates N transfers (default 200) whose shipping method is booked through Logistics Sync
with a sandbox carrier that takes 2 s to answer each booking, interleaved in the same run
with N transfers whose shipping method has no carrier integration (a fixed price). Every
validation is a real JSON-RPC call to a real Odoo server whose queue_job runner books in
the background.

    ./dev bench carrier_booking [--pickings 200] [--booking-delay 2] [--capacity 8]

Prints the users' mean and p95 validation time for both groups and their ratio (target at
most 1.05), how long until every transfer is booked with its labels, and ``lost``: the
transfers the sandbox did not book exactly once (must be 0).
"""

import argparse
import statistics
import sys
import time
from collections import Counter

import requests
from benchlib import odoo_server, percentile

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry

API_KEY = "bench-carrier-key"


def setup(env, sandbox_url, count, run):
    env["ir.config_parameter"].set_param("logistics_sync_webhook.allowed_networks", "127.0.0.1/32")
    system = env["logistics.sync.system"].create(
        {
            "name": f"Bench carrier {run}",
            "code": f"bench_carrier_{run}",
            "kind": "carrier",
            "carrier_base_url": sandbox_url,
            "carrier_timeout": 30,
        }
    )
    env["logistics.sync.secret"].create(
        {"system_id": system.id, "name": "carrier_api_key", "value": API_KEY}
    )
    env["logistics.sync.code.map"].create(
        {
            "system_id": system.id,
            "domain": "carrier_service",
            "external_code": "EXP-24",
            "canonical_value": "express",
        }
    )
    service = env["product.product"].create({"name": f"Shipping {run}", "type": "service"})
    ours = env["delivery.carrier"].create(
        {
            "name": f"Bench express {run}",
            "delivery_type": "ls_json",
            "product_id": service.id,
            "logistics_sync_system_id": system.id,
            "logistics_sync_service": "express",
        }
    )
    plain = env["delivery.carrier"].create(
        {"name": f"Bench fixed {run}", "delivery_type": "fixed", "product_id": service.id}
    )
    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    product = env["product.product"].create(
        {"name": f"Bench widget {run}", "is_storable": True, "weight": 1.0}
    )
    env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 10 * count)
    partner = env["res.partner"].create(
        {"name": f"Bench customer {run}", "street": "1 Main St", "zip": "1000", "city": "Brussels"}
    )
    groups = {"ours": [], "plain": []}
    for index in range(2 * (count + 1)):  # + one of each for the warm-up
        group = "ours" if index % 2 == 0 else "plain"
        order = env["sale.order"].create(
            {
                "partner_id": partner.id,
                "warehouse_id": warehouse.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 2})],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        picking.carrier_id = ours if group == "ours" else plain
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        groups[group].append(picking.id)
    return system.id, groups


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--pickings", type=int, default=200)
    parser.add_argument("--booking-delay", type=float, default=2.0)
    parser.add_argument("--capacity", type=int, default=8, help="job runner capacity")
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--server-log", default="/tmp/logistics_sync_bench_carrier.log")
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    # importable once Odoo is set up
    from odoo.addons.logistics_sync_carrier.tests.sandbox_carrier import SandboxCarrier

    sandbox = SandboxCarrier(api_key=API_KEY, name="Bench Sandbox").__enter__()
    sandbox.booking_delay = args.booking_delay
    run = str(int(time.time()))[-6:]
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        system_id, groups = setup(env, sandbox.url(), args.pickings, run)
        cr.commit()

    timings = {"ours": [], "plain": []}
    with odoo_server(
        args.config, args.database, args.server_log, channels=f"root:{args.capacity}"
    ) as base:
        session = requests.Session()
        session.post(
            f"{base}/web/session/authenticate",
            json={"params": {"db": args.database, "login": "admin", "password": "admin"}},
            timeout=60,
        ).raise_for_status()

        def validate(picking_id):
            started = time.perf_counter()
            response = session.post(
                f"{base}/web/dataset/call_kw/stock.picking/button_validate",
                json={
                    "params": {
                        "model": "stock.picking",
                        "method": "button_validate",
                        "args": [[picking_id]],
                        "kwargs": {},
                    }
                },
                timeout=120,
            )
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            if response.json().get("error"):
                raise RuntimeError(response.json()["error"])
            return elapsed

        # warm-up, not counted: one of each
        validate(groups["ours"].pop())
        validate(groups["plain"].pop())
        count = len(groups["ours"])
        start = time.perf_counter()
        for ours_id, plain_id in zip(groups["ours"], groups["plain"], strict=True):
            timings["ours"].append(validate(ours_id))
            timings["plain"].append(validate(plain_id))
        validated_seconds = time.perf_counter() - start
        deadline = time.monotonic() + args.timeout
        booked = labelled = 0
        while time.monotonic() < deadline:
            with registry.cursor() as cr:
                cr.execute(
                    """
                    SELECT count(*) FILTER (WHERE s.state = 'booked'),
                           count(*) FILTER (WHERE s.state = 'booked' AND NOT EXISTS (
                                SELECT 1 FROM logistics_sync_shipment_package p
                                 WHERE p.shipment_id = s.id AND p.label_attachment_id IS NULL))
                      FROM logistics_sync_shipment s WHERE s.picking_id = ANY(%s)
                    """,
                    (groups["ours"],),
                )
                booked, labelled = cr.fetchone()
            if labelled >= count:
                break
            time.sleep(0.5)
        all_booked_seconds = time.perf_counter() - start

    references = Counter(shipment["reference"] for shipment in sandbox.shipments.values())
    with registry.cursor() as cr:
        cr.execute(
            "SELECT picking_id, state FROM logistics_sync_shipment WHERE picking_id = ANY(%s)",
            (groups["ours"],),
        )
        rows = cr.fetchall()
    per_picking = Counter(picking_id for picking_id, _state in rows)
    lost = sum(1 for picking_id in groups["ours"] if per_picking[picking_id] != 1)
    lost += sum(1 for n in references.values() if n != 1)
    lost += max(0, count + 1 - len(references))  # + the warm-up
    sandbox.__exit__(None, None, None)

    ours, plain = timings["ours"], timings["plain"]
    ratio = statistics.mean(ours) / statistics.mean(plain)
    print(
        f"transfers: {count} booked through the sandbox carrier ({args.booking_delay:g} s per "
        f"booking) and {count} with a fixed-price method, validated interleaved"
    )
    print(
        f"validation with the slow carrier: mean {statistics.mean(ours) * 1000:.1f} ms, "
        f"p95 {percentile(ours, 0.95) * 1000:.1f} ms"
    )
    print(
        f"validation without carrier:       mean {statistics.mean(plain) * 1000:.1f} ms, "
        f"p95 {percentile(plain, 0.95) * 1000:.1f} ms"
    )
    print(f"ratio of the users' validation time: {ratio:.3f} (target <= 1.05)")
    synchronous = (statistics.mean(plain) + args.booking_delay) / statistics.mean(plain)
    print(
        f"a connector calling the carrier inside the validation would wait at least "
        f"{args.booking_delay:g} s more each: {synchronous:.0f}x "
        "(computed from the figures above, not measured)"
    )
    print(
        f"all validations done after {validated_seconds:.1f} s; all {count} booked with "
        f"labels after {all_booked_seconds:.1f} s (runner capacity {args.capacity}); "
        f"booked {booked}, with labels {labelled}"
    )
    stats = sandbox.stats()
    print(
        f"sandbox: {stats['booking_requests']} booking requests, {stats['bookings']} bookings, "
        f"{stats['labels']} labels ({count} transfers + the warm-up one)"
    )
    print(f"lost: {lost} (must be 0)")
    return 0 if lost == 0 and labelled >= count else 1


if __name__ == "__main__":
    sys.exit(main())
