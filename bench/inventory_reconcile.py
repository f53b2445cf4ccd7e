"""Inventory snapshot reconciliation: 1,000, 10,000 and 100,000 lines, one database.

For each size a warehouse of its own holds one quant per (product, location) key (set in SQL:
setup, not measured); a WMS sends a full snapshot of it through the partner API in parts of
5,000 lines (``POST /inventory/snapshots``) to a real Odoo server whose queue_job runner
processes it (5,000 lines per job) into a reconciliation. About 5 % of the keys differ (half
within tolerance, half beyond), 1 % of Odoo's keys are missing from the snapshot and 0.1 % of
its SKUs are unknown (quarantined).

    ./dev bench inventory_reconcile [--sizes 1000,10000,100000] [--approve]

Prints, per size, the seconds per 1,000 lines from the first part sent to the reconciliation
ready for review, and the Odoo worker's peak memory above its idle size (VmHWM, reset before
each size, minus VmRSS at rest); then the ratio of the 100k per-line cost to the 1k per-line
cost (target at most 1.2: linear), the 100k peak (target under 300 MiB) and, once a manager's
*Approve all* has been applied by the jobs, whether Odoo's quantities equal the snapshot.
"""

import argparse
import random
import sys
import time
from pathlib import Path

import psutil
import requests
from benchlib import odoo_server

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

LOCATIONS = 50
PART = 5000


def setup_size(env, run, size, products):
    """A warehouse with LOCATIONS internal locations and one quant per key; return
    ``(warehouse, keys)`` with ``keys`` = [(product, location, sku, quantity)]."""
    code = f"B{run[-2:]}{len(str(size))}"
    warehouse = env["stock.warehouse"].create({"name": f"Bench {size} {run}", "code": code})
    Location = env["stock.location"]
    locations = Location.create(
        [
            {
                "name": f"Bin {i:02d}",
                "location_id": warehouse.lot_stock_id.id,
                "barcode": f"{code}-BIN-{i:02d}",
            }
            for i in range(LOCATIONS)
        ]
    )
    count = size // LOCATIONS
    keys = []
    for product in products[:count]:
        for location in locations:
            keys.append((product.id, location.id, product.default_code, location.barcode))
    rng = random.Random(size)
    rows = [(p, loc, 100 + rng.randrange(900)) for p, loc, _sku, _bc in keys]
    env.cr.execute(
        """
        INSERT INTO stock_quant (product_id, location_id, company_id, quantity,
                                 reserved_quantity, in_date, create_uid, write_uid,
                                 create_date, write_date, inventory_quantity_set)
        SELECT r.p, r.l, %s, r.q, 0, now() at time zone 'UTC', 1, 1,
               now() at time zone 'UTC', now() at time zone 'UTC', false
          FROM unnest(%s::int[], %s::int[], %s::numeric[]) AS r(p, l, q)
        """,
        (
            warehouse.company_id.id,
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
        ),
    )
    quantities = {(p, loc): q for p, loc, q in rows}
    return warehouse, keys, quantities


def snapshot_lines(keys, quantities, size):
    """The WMS's count: most keys equal, some off, a few missing, a few unknown SKUs."""
    rng = random.Random(size + 1)
    lines = []
    for product, location, sku, barcode in keys:
        odoo_qty = quantities[(product, location)]
        draw = rng.random()
        if draw < 0.01:
            continue  # in Odoo, not at the WMS
        if draw < 0.011:
            sku = f"UNKNOWN-{product}"
        quantity = odoo_qty
        if 0.011 <= draw < 0.036:
            quantity = odoo_qty - 1  # within the default tolerance of 1
        elif 0.036 <= draw < 0.061:
            quantity = odoo_qty + 50  # needs review
        lines.append({"sku": sku, "location": barcode, "quantity": quantity})
    return lines


def server_process():
    for child in psutil.Process().children(recursive=True):
        if "odoo" in " ".join(child.cmdline()):
            return child
    raise RuntimeError("no Odoo server process found")


def reset_peak(process):
    # writing 5 resets the "high water mark" of the resident set (Linux >= 4.0)
    Path(f"/proc/{process.pid}/clear_refs").write_text("5")


def memory(process, field):
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def wait_for(registry, sql, params, done, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with registry.cursor() as cr:
            cr.execute(sql, params)
            row = cr.fetchone()
        if done(row):
            return row
        time.sleep(0.2)
    raise TimeoutError(sql)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--approve", action="store_true", default=True)
    parser.add_argument("--no-approve", dest="approve", action="store_false")
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--server-log", default="/tmp/logistics_sync_bench_inventory.log")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    run = str(int(time.time()))[-6:]
    from odoo.addons.logistics_sync_webhook import api as api_tools

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        system = env["logistics.sync.system"].create(
            {"name": f"Bench WMS {run}", "code": f"bench_wms_{run}", "kind": "wms"}
        )
        env["logistics.sync.inventory.tolerance"].create({"tolerance_qty": 1.0})
        secret, prefix, digest = api_tools.generate_key()
        env["logistics.sync.api.key"].create(
            {
                "name": "bench",
                "system_id": system.id,
                "prefix": prefix,
                "key_hash": digest,
                "rate_limit": 0,
                "scope_ids": [(6, 0, env.ref("logistics_sync_wms.api_scope_inventory_write").ids)],
            }
        )
        count = max(sizes) // LOCATIONS
        products = env["product.product"].create(
            [
                {
                    "name": f"Bench item {i}",
                    "default_code": f"BI{run}-{i:05d}",
                    "is_storable": True,
                    "standard_price": 2.5,
                }
                for i in range(count)
            ]
        )
        setups = {size: setup_size(env, run, size, products) for size in sizes}
        cr.commit()
        setups = {
            size: (warehouse.id, warehouse.code, keys, quantities)
            for size, (warehouse, keys, quantities) in setups.items()
        }

    results = {}
    with odoo_server(args.config, args.database, args.server_log, channels="root:1") as base:
        process = server_process()
        session = requests.Session()
        headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
        admin = requests.Session()
        admin.post(
            f"{base}/web/session/authenticate",
            json={"params": {"db": args.database, "login": "admin", "password": "admin"}},
            timeout=60,
        ).raise_for_status()
        # warm-up, not counted: a tiny partial snapshot through the same path
        _code, wh_code, keys, _q = setups[sizes[0]]
        response = session.post(
            f"{base}/logistics_sync/api/v1/inventory/snapshots",
            json={
                "snapshot_id": f"warmup-{run}",
                "kind": "partial",
                "warehouse": wh_code,
                "lines": [{"sku": keys[0][2], "location": keys[0][3], "quantity": 1}],
            },
            headers=headers,
            timeout=120,
        )
        response.raise_for_status()
        wait_for(
            registry,
            "SELECT state FROM logistics_sync_inventory_snapshot WHERE external_id = %s",
            (f"warmup-{run}",),
            lambda row: row and row[0] == "reconciled",
            args.timeout,
        )
        for size in sizes:
            warehouse_id, wh_code, keys, quantities = setups[size]
            lines = snapshot_lines(keys, quantities, size)
            snapshot_id = f"bench-{run}-{size}"
            time.sleep(2)
            idle = memory(process, "VmRSS")
            reset_peak(process)
            started = time.perf_counter()
            parts = range(0, len(lines), PART)
            for number, start in enumerate(parts, start=1):
                response = session.post(
                    f"{base}/logistics_sync/api/v1/inventory/snapshots",
                    json={
                        "snapshot_id": snapshot_id,
                        "kind": "full",
                        "warehouse": wh_code,
                        "taken_at": "2026-12-06T06:00:00Z",
                        "part": number,
                        "last_part": number == len(parts),
                        "lines": lines[start : start + PART],
                    },
                    headers=headers,
                    timeout=300,
                )
                if response.status_code != 202:
                    raise RuntimeError(response.text)
            sent = time.perf_counter() - started
            snapshot_row = wait_for(
                registry,
                """
                SELECT s.state, s.id, s.reconciliation_id, s.quarantined_count,
                       r.line_count, r.review_count, r.within_count
                  FROM logistics_sync_inventory_snapshot s
                  LEFT JOIN logistics_sync_inventory_reconciliation r
                    ON r.id = s.reconciliation_id
                 WHERE s.external_id = %s
                """,
                (snapshot_id,),
                lambda row: row and row[0] in ("reconciled", "failed"),
                args.timeout,
            )
            elapsed = time.perf_counter() - started
            peak = memory(process, "VmHWM")
            with registry.cursor() as cr:
                cr.execute(
                    "SELECT count(*) FROM queue_job WHERE func_string = %s",
                    (f"logistics.sync.inventory.snapshot({snapshot_row[1]},).process()",),
                )
                jobs = cr.fetchone()[0]
            results[size] = {
                "lines": len(lines),
                "seconds": elapsed,
                "sent": sent,
                "peak": peak - idle,
                "idle": idle,
                "jobs": jobs,
                "row": snapshot_row,
            }

        approvals = {}
        if args.approve:
            for size in sizes:
                row = results[size]["row"]
                started = time.perf_counter()
                response = admin.post(
                    f"{base}/web/dataset/call_kw/logistics.sync.inventory.reconciliation/"
                    "action_approve_all",
                    json={
                        "params": {
                            "model": "logistics.sync.inventory.reconciliation",
                            "method": "action_approve_all",
                            "args": [[row[2]]],
                            "kwargs": {},
                        }
                    },
                    timeout=600,
                )
                response.raise_for_status()
                if response.json().get("error"):
                    raise RuntimeError(response.json()["error"])
                wait_for(
                    registry,
                    "SELECT state FROM logistics_sync_inventory_reconciliation WHERE id = %s",
                    (row[2],),
                    lambda r: r and r[0] == "done",
                    args.timeout,
                )
                approvals[size] = time.perf_counter() - started

    with registry.cursor() as cr:
        mismatches = {}
        for size in sizes:
            warehouse_id, _code, _keys, _quantities = setups[size]
            row = results[size]["row"]
            # every compared key: Odoo's on-hand now equals the WMS's count
            cr.execute(
                """
                SELECT count(*) FROM logistics_sync_inventory_reconciliation_line r
                 WHERE r.reconciliation_id = %s
                   AND r.wms_qty <> COALESCE((
                       SELECT sum(q.quantity) FROM stock_quant q
                        WHERE q.product_id = r.product_id AND q.location_id = r.location_id
                          AND q.lot_id IS NOT DISTINCT FROM r.lot_id), 0)
                """,
                (row[2],),
            )
            mismatches[size] = cr.fetchone()[0]

    print(
        f"full snapshots sent through the partner API in parts of {PART:,} lines, processed "
        "by the queue_job runner (channel capacity 1, 5,000 lines per job)"
    )
    print(
        f"{'lines':>8} {'s total':>8} {'s / 1k lines':>13} {'jobs':>5} {'to review':>10} "
        f"{'within':>7} {'unknown':>8} {'peak MiB above idle':>20}"
    )
    for size in sizes:
        r = results[size]
        state, _sid, _rid, quarantined, _total, review, within = r["row"]
        per_k = r["seconds"] / r["lines"] * 1000
        print(
            f"{r['lines']:>8,} {r['seconds']:>8.1f} {per_k:>13.3f} {r['jobs']:>5} "
            f"{review:>10,} {within:>7,} {quarantined:>8,} {r['peak'] / 2**20:>20.1f}"
            + ("" if state == "reconciled" else f"  ({state})")
        )
    small, large = min(sizes), max(sizes)
    ratio = (results[large]["seconds"] / results[large]["lines"]) / (
        results[small]["seconds"] / results[small]["lines"]
    )
    print(
        f"ratio of the {large:,}-line per-line cost to the {small:,}-line one: {ratio:.2f} "
        "(target <= 1.2)"
    )
    print(
        f"peak memory of the Odoo worker during the {large:,}-line run: "
        f"{results[large]['peak'] / 2**20:.1f} MiB above its idle "
        f"{results[large]['idle'] / 2**20:.0f} MiB (target < 300 MiB)"
    )
    if args.approve:
        for size in sizes:
            print(
                f"approve all ({size:,} lines): applied by jobs in {approvals[size]:.1f} s; "
                f"lines whose Odoo quantity differs from the snapshot afterwards: "
                f"{mismatches[size]} (must be 0)"
            )
    ok = ratio <= 1.2 and results[large]["peak"] < 300 * 2**20
    ok = ok and (not args.approve or not any(mismatches.values()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
