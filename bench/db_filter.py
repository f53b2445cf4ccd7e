"""What requests cost with and without ``dbfilter``, side by side.

    ./dev bench db_filter [--requests 600] [--rounds 2] [--user-seconds 20]

Partners' requests (the API, inbound webhooks) and the queue_job runner's carry no session
cookie: Odoo picks their database before any route runs. Given ``db_name`` and no
``dbfilter``, it takes the configured database; given a ``dbfilter``, it lists the
server's databases first, on a new connection to PostgreSQL's ``postgres`` database (a
connection Odoo does not keep in its pool), at every such request.

Starts the same prefork server (2 workers, no job runner) on the benchmark database twice
per round, alternately with ``--db-filter=^<database>$`` and without it, and sends it the
same requests from 2 client threads: GET of the API's OpenAPI document and POST of a
webhook to an unknown system (our JSON 401: unknown and unauthorized are not told apart);
then 2 logged-in users' round trips (``office_users.py``: search contacts, read one, write
it), which carry a session. Prints per request (per round trip) the wall time (p50) and the
machine's CPU time (all processes, PostgreSQL included: the machine is otherwise quiet),
and the ratios with / without.
"""

import argparse
import statistics
import sys

from benchlib import hammer, machine_cpu, odoo_server
from office_users import call, login, round_trips


def measure(base, count, threads=2):
    """(p50 wall seconds, machine CPU seconds per request, status codes) of ``count``
    requests, half API, half webhook, from ``threads`` sessions."""

    def request(session, number):
        if number % 2:
            return session.get(f"{base}/logistics_sync/api/v1/openapi.json", timeout=30).status_code
        return session.post(
            f"{base}/logistics_sync/webhook/no_such_system",
            data=b"{}",
            headers={"content-type": "application/json"},
            timeout=30,
        ).status_code

    used = machine_cpu()
    _seconds, latencies, codes = hammer(request, count, threads)
    used = machine_cpu() - used
    return statistics.median(latencies), used / len(latencies), set(codes)


def contacts(base, database, count=200):
    """Ids of ``count`` contacts the users' round trips find ("chaos" in their names) and
    change, created on the first call."""
    session = login(base, database)
    found = call(base, session, "res.partner", "search", [[["name", "ilike", "chaos"]]])
    if len(found) < count:
        names = [{"name": f"Chaos contact {number}"} for number in range(count - len(found))]
        found += call(base, session, "res.partner", "create", [names])
    return found


def measure_users(base, database, seconds, users=2):
    """(p50 wall seconds, machine CPU seconds per round trip) of ``users`` logged-in users
    working back to back for ``seconds`` on 200 contacts."""
    partner_ids = contacts(base, database)
    used = machine_cpu()
    trips = round_trips(base, database, users, seconds, partner_ids)
    used = machine_cpu() - used
    return statistics.median(trips), used / len(trips)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--user-seconds", type=float, default=20)
    parser.add_argument("--server-log", default="/tmp/bench_db_filter.log")
    args = parser.parse_args()
    results = {True: [], False: []}
    for number in range(args.rounds):
        # each configuration first in every other round: what drifts over the run is shared
        for db_filter in (True, False) if number % 2 == 0 else (False, True):
            with odoo_server(
                args.config,
                args.database,
                args.server_log,
                job_runner=False,
                workers=2,
                db_filter=db_filter,
            ) as base:
                measure(base, 60)  # warm-up: both workers load the registry
                wall, cpu, codes = measure(base, args.requests)
                if codes != {200, 401}:
                    raise SystemExit(f"unexpected answers {sorted(codes)}: nothing to compare")
                measure_users(base, args.database, 3)  # warm-up
                user_wall, user_cpu = measure_users(base, args.database, args.user_seconds)
            results[db_filter].append((wall, cpu, user_wall, user_cpu))
            print(
                f"{'with dbfilter   ' if db_filter else 'without dbfilter'}: without a session "
                f"p50 {wall * 1000:.2f} ms, machine CPU {cpu * 1000:.2f} ms a request (answers "
                f"{sorted(codes)}); users' round trips p50 {user_wall * 1000:.1f} ms, machine "
                f"CPU {user_cpu * 1000:.1f} ms a trip",
                flush=True,
            )
    with_, without = (
        [statistics.median(column) for column in zip(*results[key], strict=True)]
        for key in (True, False)
    )
    for label, index in (("requests without a session", 0), ("users' round trips", 2)):
        print(
            f"{label}, medians of {args.rounds} rounds: with dbfilter p50 "
            f"{with_[index] * 1000:.2f} ms, CPU {with_[index + 1] * 1000:.2f} ms; without p50 "
            f"{without[index] * 1000:.2f} ms, CPU {without[index + 1] * 1000:.2f} ms; ratio "
            f"with / without: wall {with_[index] / without[index]:.2f}, CPU "
            f"{with_[index + 1] / without[index + 1]:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
