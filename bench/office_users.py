"""Office users working on an Odoo server, timed from a process of their own.

    python office_users.py --base URL --database DB --users 4 --seconds 60 [--think 1] \
        < partner_ids.json

Each user (a thread with its own session) logs in, then repeats a user's round trip until
the time is up: search a list of contacts, open one of its own, save a change; between two
round trips it waits ``--think`` seconds on average (uniformly 0 to twice that; default 0:
back to back, as many round trips as the server can serve). Prints the latencies (seconds)
of the round trips as a JSON list.

Its own process, not threads of the script that makes the load: the load's Python threads
would otherwise hold the interpreter lock while a user's answer waits to be read, and the
wait would be counted as the server's latency.
"""

import argparse
import json
import random
import sys
import threading
import time

import requests


def login(base, database):
    session = requests.Session()
    session.post(
        f"{base}/web/session/authenticate",
        json={"params": {"db": database, "login": "admin", "password": "admin"}},
        timeout=60,
    ).raise_for_status()
    return session


def call(base, session, model, method, args, kwargs=None):
    response = session.post(
        f"{base}/web/dataset/call_kw/{model}/{method}",
        json={
            "jsonrpc": "2.0",
            "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        },
        timeout=60,
    )
    response.raise_for_status()
    answer = response.json()
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["result"]


def round_trips(base, database, users, seconds, partner_ids, think=0.0):
    """Latencies (s) of the round trips ``users`` users made during ``seconds``, each
    waiting ``think`` seconds on average between two."""
    sessions = [login(base, database) for _user in range(users)]
    latencies, lock = [], threading.Lock()
    deadline = time.monotonic() + seconds

    def user(index, session):
        rng = random.Random(index)
        # each user edits contacts of its own: users who start together with seeded choices
        # would otherwise write the same contact at the same moment now and then, and
        # Odoo's retry of the serialization failure sleeps up to 2 s, a trip slowed by the
        # benchmark's own collision
        own = partner_ids[index::users] or partner_ids
        while time.monotonic() < deadline:
            partner_id = rng.choice(own)
            start = time.perf_counter()
            call(
                base,
                session,
                "res.partner",
                "search_read",
                [[["name", "ilike", "chaos"]]],
                {"fields": ["name", "email", "phone"], "limit": 80},
            )
            call(base, session, "res.partner", "read", [[partner_id], ["name", "phone"]])
            call(
                base, session, "res.partner", "write", [[partner_id], {"phone": str(rng.random())}]
            )
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
            if think:
                time.sleep(rng.uniform(0, 2 * think))

    pool = [threading.Thread(target=user, args=item) for item in enumerate(sessions)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between trips (s)")
    args = parser.parse_args()
    partner_ids = json.load(sys.stdin)
    json.dump(
        round_trips(args.base, args.database, args.users, args.seconds, partner_ids, args.think),
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
