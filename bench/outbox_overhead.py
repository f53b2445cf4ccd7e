"""Cost of the transactional outbox on the business transaction.

Confirms sale orders and validates their delivery pickings with event emission on, then the
same with emission suppressed (``logistics_sync_no_event``), in one process on one
database, interleaved in rounds so both sides see the same machine load. Everything runs in
one transaction that is rolled back at the end: the database is left as it was. Pre-commit
hooks (which enqueue the routing job) are run after each round, as a commit would.

    ./dev bench outbox_overhead [--orders 200] [--rounds 4]

Prints the time of each side and the ratio on / off (target: at most 1.10).
"""

import argparse
import sys
import time

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry


def make_orders(env, product, partner, count):
    return env["sale.order"].create(
        [
            {
                "partner_id": partner.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
            }
            for _index in range(count)
        ]
    )


def confirm_and_validate(orders):
    start = time.perf_counter()
    for order in orders:
        order.action_confirm()
        picking = order.picking_ids
        picking.move_ids.quantity = 1
        picking.button_validate()
    orders.env.cr.flush()  # ORM flush + pre-commit hooks, as the commit would
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    per_round = args.orders // args.rounds
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        product = env["product.product"].create(
            {"name": "Bench item", "default_code": "BENCH", "is_storable": True}
        )
        env["stock.quant"]._update_available_quantity(
            product, warehouse.lot_stock_id, args.orders * 4
        )
        partner = env["res.partner"].create({"name": "Bench customer", "email": "b@example.com"})
        events_before = env["logistics.sync.event"].search_count([])
        # warm-up, both sides, not timed
        confirm_and_validate(make_orders(env, product, partner, 5))
        confirm_and_validate(
            make_orders(
                env(context={**env.context, "logistics_sync_no_event": True}), product, partner, 5
            )
        )
        timings = {"on": 0.0, "off": 0.0}
        for round_index in range(args.rounds):
            sides = ["on", "off"] if round_index % 2 == 0 else ["off", "on"]
            for side in sides:
                context = dict(env.context, logistics_sync_no_event=(side == "off"))
                orders = make_orders(env(context=context), product, partner, per_round)
                timings[side] += confirm_and_validate(orders)
        emitted = env["logistics.sync.event"].search_count([]) - events_before
        cr.rollback()
    total = per_round * args.rounds
    print(f"orders per side: {total} (confirm + validate picking), rounds: {args.rounds}")
    print(f"events emitted with emission on: {emitted}")
    print(f"emission on : {timings['on']:.2f} s ({timings['on'] / total * 1000:.1f} ms/order)")
    print(f"emission off: {timings['off']:.2f} s ({timings['off'] / total * 1000:.1f} ms/order)")
    ratio = timings["on"] / timings["off"]
    print(f"ratio on/off: {ratio:.3f} (target <= 1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
