"""Chaos suite: the real prefork server and job runner, faults injected for real.

Each scenario starts Odoo's prefork server (``--workers=4``, one cron worker, the queue_job
runner as its own process) on the benchmark database, drives events or requests through it
against real local parties on 127.0.0.1 (a fault-injecting HTTP receiver, the machine's
RabbitMQ, PostgreSQL itself), injects its faults, waits for recovery and counts:

    ./dev chaos [--quick] [scenario ...]
    scenarios: flapping kill postgres rabbitmq burst fuzz (default: all, in that order)

``lost N`` counts events (or accepted inbound messages) that never arrived; ``duplicated N``
counts copies the receiver applied more than once under one webhook-id plus events that
arrived under two different ids. Redelivery of an id is allowed (at-least-once); a loss is
not: the exit status is 1 when any scenario lost anything.

Faults, all on this machine and bounded in time:

- flapping: the receiver answers 503, drops connections, or hangs past the subscription's
  timeout, in phases between healthy ones, under a steady event rate;
- kill: ``kill -9`` of the Odoo worker process running a delivery job (its pid is the one
  queue_job records on the started job), several times during a burst;
- postgres: ``pg_terminate_backend`` of every connection the Odoo server holds on the
  database (not this script's), repeatedly, during inbound and outbound bursts;
- rabbitmq: ``rabbitmqctl close_connection`` of every connection in a vhost of the suite's
  own (other users of the broker are left alone) during AMQP delivery;
- burst: 20,000 events in 60 s from concurrent users while a second Odoo server without
  the job runner serves users; their latency before, during and after the burst, by
  default twice: the job server at the users' CPU priority and at a lower one
  (``--burst-runs``: default ``0,idle``, nice 0 then Linux's SCHED_IDLE; any niceness, in
  any order, or ``after``: the job server started only once the burst is emitted, what
  the emitting transactions alone cost the users; ``idle:1``: that run's job server with
  one job slot);
  the CPU each process used in each phase; the users work back to back (the default) or
  at a pace (``--burst-users``, ``--burst-think``);
  the receiving partner, a process of its own, under SCHED_IDLE (it stands for another
  machine);
- fuzz: schemathesis against the partner API's OpenAPI document (positive and negative
  data) and a byte/field fuzzer for inbound webhooks, the metrics route and other
  /logistics_sync/ paths: 5xx answers, tracebacks in the server log, accepted then lost.

``--quick`` shortens phases and bursts for iteration; the defaults are the issue's figures.
"""

import argparse
import http.client
import json
import logging
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

import requests
from benchlib import CpuMeter, emit_events, odoo_server, percentile

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

TYPE = "shipment.dispatched"
# Faster than Standard Webhooks' default (5 min after the second failure) so that recovery
# fits in the run; long enough that nothing is dead-lettered while the partner flaps.
RETRY_SCHEDULE = "0, 5, 10, 20, 30, 60, 60, 120, 300, 600, 1800, 3600, 7200"
FLOW_TIMEOUT = 5  # seconds; the receiver hangs longer than that
BROKER = "amqp://guest:guest@127.0.0.1:5672/"


class Suite:
    """What every scenario shares: the database, a tag per run, servers, subscriptions."""

    def __init__(self, args):
        self.args = args
        self.registry = Registry(args.database)
        self.run = uuid.uuid4().hex[:6]
        self.results = []  # (scenario, mode, injected, lost, duplicated, notes)

    @contextmanager
    def env(self, uid=SUPERUSER_ID):
        with self.registry.cursor() as cr:
            yield api.Environment(cr, uid, {"tracking_disable": True})
            cr.commit()

    def server(self, name, **options):
        options.setdefault("workers", self.args.workers)
        options.setdefault("channels", self.args.channels)
        log = os.path.join(self.args.log_dir, f"chaos_{name}.log")
        if os.path.exists(log):
            os.unlink(log)
        return odoo_server(self.args.config, self.args.database, log, **options), log

    def subscription(self, name, **values):
        """A system and an HTTP (or AMQP) subscription receiving the ``TYPE`` events whose
        payload carries this scenario's tag, signed, with the chaos retry schedule."""
        tag = f"{name}_{self.run}"
        with self.env() as env:
            env["ir.config_parameter"].set_param(
                "logistics_sync_webhook.allowed_networks", "127.0.0.1/32"
            )
            system = env["logistics.sync.system"].create(
                {"name": f"Chaos {tag}", "code": f"chaos_{tag}", "kind": "wms"}
            )
            flow = env["logistics.sync.flow"].create(
                {
                    "name": f"Chaos {tag}",
                    "system_id": system.id,
                    "event_type_ids": [(6, 0, env["logistics.sync.event.type"]._get(TYPE).ids)],
                    "transport": "http",
                    "payload_filter": json.dumps({"carrier": tag}),
                    "retry_schedule": RETRY_SCHEDULE,
                    "timeout": FLOW_TIMEOUT,
                    "breaker_cooldown": 10,
                    **values,
                }
            )
            env["logistics.sync.signing.key"]._generate(flow)
            return tag, flow.id, system.id

    def retire(self, flow_id):
        """A finished scenario's subscription stops matching the next scenarios' events."""
        with self.env() as env:
            env["logistics.sync.flow"].browse(flow_id).write({"active": False})

    def report(self, scenario, injected, lost, duplicated, notes=""):
        mode = "quick" if self.args.quick else "full"
        print(f"[{scenario}] ({mode}) injected: {injected}")
        if notes:
            print(f"[{scenario}] {notes}")
        print(f"[{scenario}] lost {lost}, duplicated {duplicated}", flush=True)
        self.results.append((scenario, mode, injected, lost, duplicated, notes))


class Emitter:
    """Emits ``TYPE`` events about a set of partners (the aggregates, round robin, so each
    has a sequence of events), in transactions of ``chunk``, written by one ``_emit_many``
    as the business hooks write a batch's events (an ``_emit`` per event with
    ``--emit-one-by-one``); remembers each event's marker (``data.shipment_id``) once its
    transaction committed."""

    def __init__(self, suite, tag, aggregates):
        self.suite, self.tag = suite, tag
        with suite.env() as env:
            partners = env["res.partner"].create(
                [{"name": f"Chaos {tag} aggregate {i}"} for i in range(aggregates)]
            )
            self.partner_ids = partners.ids
        self.markers = []
        self.emitted_at = {}
        self.lock = threading.Lock()
        self.count = 0

    def emit(self, number, rate=None, chunk=50, uid=SUPERUSER_ID, stop=None):
        """Emit ``number`` events, at most ``rate`` per second when given."""
        start = time.monotonic()
        done = 0
        while done < number and not (stop and stop.is_set()):
            size = min(chunk, number - done)
            with self.lock:
                first = self.count
                self.count += size
            markers = [f"{self.tag}-{first + i}" for i in range(size)]
            with self.suite.env(uid) as env:
                Event = env["logistics.sync.event"]
                partners = env["res.partner"].browse(
                    [self.partner_ids[(first + i) % len(self.partner_ids)] for i in range(size)]
                )
                emissions = [
                    (partner, {"shipment_id": marker, "carrier": self.tag})
                    for partner, marker in zip(partners, markers, strict=True)
                ]
                emit_events(Event, TYPE, emissions, self.suite.args.emit_one_by_one)
            now = time.time()
            with self.lock:
                self.markers.extend(markers)
                self.emitted_at.update(dict.fromkeys(markers, now))
            done += size
            if rate:
                ahead = start + done / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        return done


class Tally:
    """What the receiver applied (answered 2xx), counted without deduplication."""

    def __init__(self, deliveries):
        # deliveries: (webhook-id, envelope) of every applied request, in arrival order
        self.applied_per_id = Counter()
        self.ids_per_marker = defaultdict(set)
        self.order = defaultdict(list)  # aggregate -> sequences, first application of each id
        self.first_at = {}  # marker -> when it was first applied
        seen = set()
        for webhook_id, envelope, at in deliveries:
            self.applied_per_id[webhook_id] += 1
            marker = (envelope.get("data") or {}).get("shipment_id")
            self.ids_per_marker[marker].add(webhook_id)
            self.first_at.setdefault(marker, at)
            if webhook_id not in seen:
                seen.add(webhook_id)
                aggregate = envelope.get("aggregate") or {}
                self.order[aggregate.get("id")].append(aggregate.get("sequence"))

    @classmethod
    def from_receiver(cls, receiver):
        deliveries = []
        for request in receiver.received():
            status = request.get("status")
            if isinstance(status, int) and 200 <= status < 300:
                envelope = json.loads(request["body"])
                deliveries.append((request["headers"].get("webhook-id"), envelope, request["time"]))
        return cls(deliveries)

    def lost(self, markers):
        return sum(1 for marker in markers if marker not in self.ids_per_marker)

    def duplicated(self):
        again = sum(count - 1 for count in self.applied_per_id.values())
        new_ids = sum(len(ids) - 1 for ids in self.ids_per_marker.values())
        return again + new_ids

    def new_ids(self):
        return sum(len(ids) - 1 for ids in self.ids_per_marker.values())

    def lag(self, emitted_at, share):
        """Seconds from an event's commit to its first application, at ``share``."""
        return percentile(
            [self.first_at[m] - at for m, at in emitted_at.items() if m in self.first_at], share
        )

    def out_of_order(self):
        return sum(1 for seqs in self.order.values() if seqs != sorted(seqs))


class ReceiverProcess:
    """The test receiver (answering 200 to every request) in a process of its own under
    Linux's ``SCHED_IDLE`` policy (or at CPU niceness ``nice``): a partner on another
    machine, which on this one takes only the CPU the users' server leaves. In this
    script's process its request handling would compete with the users at their priority
    and be counted against the integration. Offers the receiver's ``url()`` and
    ``received()`` (fetching only what arrived since the last call; after the block, what
    had arrived by its end)."""

    def __init__(self, nice="idle"):
        self.nice = nice
        self.requests = []

    def __enter__(self):
        context = multiprocessing.get_context("fork")
        self.pipe, theirs = context.Pipe()
        self.process = context.Process(target=self._serve, args=(theirs, self.nice), daemon=True)
        self.process.start()
        self.base = self.pipe.recv()
        return self

    @staticmethod
    def _serve(pipe, nice):
        from odoo.addons.logistics_sync_webhook.tests.receiver import Receiver

        if nice == "idle":
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        else:
            os.nice(nice)
        with Receiver() as receiver:
            pipe.send(receiver.url(""))
            while (since := pipe.recv()) is not None:
                pipe.send(receiver.received()[since:])

    def __exit__(self, *_exc):
        self.received()  # what arrived stays readable once the process is gone
        self.pipe.send(None)
        self.process.join(30)

    def url(self, path="/hook"):
        return f"{self.base}{path}"

    def received(self):
        if self.process.is_alive():
            self.pipe.send(len(self.requests))
            self.requests.extend(self.pipe.recv())
        return list(self.requests)


def wait_until(predicate, timeout, step=1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def delivered_all(receiver, markers):
    return lambda: Tally.from_receiver(receiver).lost(markers) == 0


def tracebacks(log):
    with open(log, errors="replace") as handle:
        return sum(1 for line in handle if line.startswith("Traceback"))


# --------------------------------------------------------------------------- scenarios


def scenario_flapping(suite):
    """Partner flapping under a steady event rate; after recovery everything is delivered,
    in order per aggregate, ids unchanged."""
    from odoo.addons.logistics_sync_webhook.tests.receiver import Receiver

    args = suite.args
    if args.quick:
        rate, phases = 20, [("up", 10), (503, 8), ("up", 10), ("drop", 5), ("up", 10), ("hang", 8)]
        duration = 60
    else:
        rate, phases = (
            50,
            [("up", 60), (503, 30), ("up", 60), ("drop", 30), ("up", 60), ("hang", 10)],
        )
        duration = 300
    receiver = Receiver(hang_seconds=FLOW_TIMEOUT + 2).__enter__()
    tag, flow_id, _system = suite.subscription("flapping", url=receiver.url())
    # a second partner, healthy, gets the same events through its own channel
    steady = Receiver().__enter__()
    _tag, steady_flow_id, _system = suite.subscription(
        "flapping_steady", url=steady.url(), payload_filter=json.dumps({"carrier": tag})
    )
    emitter = Emitter(suite, tag, aggregates=100)
    (server, log) = suite.server("flapping")
    injected = []
    with server:
        emitting = threading.Thread(
            target=emitter.emit, args=(rate * duration,), kwargs={"rate": rate, "chunk": rate}
        )
        started = time.monotonic()
        emitting.start()
        elapsed = 0.0
        for index in range(1000):
            mode, seconds = phases[index % len(phases)]
            seconds = min(seconds, duration - elapsed)
            if seconds <= 0:
                break
            receiver.fault = None if mode == "up" else mode
            injected.append(f"{seconds:g}s {mode}")
            time.sleep(seconds)
            elapsed += seconds
        receiver.fault = None
        emitting.join()
        emitted = time.monotonic() - started
        recovered = wait_until(delivered_all(receiver, emitter.markers), args.recovery)
        recovery = time.monotonic() - started - emitted
        wait_until(delivered_all(steady, emitter.markers), 60)
    suite.retire(flow_id)
    suite.retire(steady_flow_id)
    receiver.__exit__(None, None, None)
    steady.__exit__(None, None, None)
    tally = Tally.from_receiver(receiver)
    steady_tally = Tally.from_receiver(steady)
    refused = sum(1 for r in receiver.received() if r.get("status") != 200)
    suite.report(
        "flapping",
        f"{len(emitter.markers)} events at {rate}/s over {emitted:.0f} s; phases "
        + ", ".join(injected),
        tally.lost(emitter.markers),
        tally.duplicated(),
        f"requests refused/dropped/hung by the receiver: {refused}; "
        f"{'recovered' if recovered else 'NOT recovered'} {recovery:.0f} s after the last "
        f"event; out of order aggregates: {tally.out_of_order()}; events under a second id: "
        f"{tally.new_ids()}; tracebacks in the server log: {tracebacks(log)}; "
        f"from commit to delivery: flapping partner p50 {tally.lag(emitter.emitted_at, 0.5):.1f}"
        f" s, p99 {tally.lag(emitter.emitted_at, 0.99):.1f} s; a healthy partner of the same "
        f"events (own channel) p50 {steady_tally.lag(emitter.emitted_at, 0.5):.1f} s, p99 "
        f"{steady_tally.lag(emitter.emitted_at, 0.99):.1f} s, lost "
        f"{steady_tally.lost(emitter.markers)}",
    )
    return (
        tally.out_of_order() == 0
        and tally.new_ids() == 0
        and steady_tally.lost(emitter.markers) == 0
    )


def _odoo_worker(pid, database):
    """Only a process of our own server: an ``odoo_serve.py`` given our database."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            command = handle.read()
        return b"odoo_serve.py\0" in command and f"\0-d\0{database}\0".encode() in command
    except OSError:
        return False


def scenario_kill(suite):
    """kill -9 of the worker running a delivery job, several times during a burst."""
    from odoo.addons.logistics_sync_webhook.tests.receiver import Receiver

    args = suite.args
    # emitted over 30 / 40 s: as fast as it can, the burst is delivered before the kills
    # (with routing jobs gathered under a burst, 20 s left room for 2 kills out of 3)
    events, rate, kills_wanted = (3000, 100, 3) if args.quick else (5000, 125, 5)
    receiver = Receiver().__enter__()
    tag, flow_id, _system = suite.subscription("kill", url=receiver.url())
    emitter = Emitter(suite, tag, aggregates=250)
    (server, log) = suite.server("kill")
    kills = []
    with server:
        emitting = threading.Thread(
            target=emitter.emit, args=(events,), kwargs={"chunk": 100, "rate": rate}
        )
        started = time.monotonic()
        emitting.start()
        channel = f"root.logistics_sync.deliver.chaos_{tag}"
        deadline = time.monotonic() + args.recovery
        delivered = delivered_all(receiver, emitter.markers)
        while len(kills) < kills_wanted and time.monotonic() < deadline:
            if not emitting.is_alive() and delivered():
                break
            with suite.env() as env:
                env.cr.execute(
                    """
                    SELECT uuid, worker_pid FROM queue_job
                     WHERE channel = %s AND method_name = 'deliver_pending'
                       AND state = 'started' AND worker_pid IS NOT NULL
                    """,
                    (channel,),
                )
                running = env.cr.fetchall()
            if not running:
                time.sleep(0.1)
                continue
            job_uuid, pid = running[0]
            before = len(receiver.received())
            time.sleep(0.3)  # let it post some
            posted = len(receiver.received()) - before
            if posted and _odoo_worker(pid, args.database):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                kills.append((pid, posted))
                time.sleep(3)
        emitting.join()
        recovered = wait_until(delivered_all(receiver, emitter.markers), args.recovery)
        elapsed = time.monotonic() - started
        with suite.env() as env:
            env.cr.execute(
                "SELECT count(*) FROM queue_job WHERE channel = %s AND retry > 1", (channel,)
            )
            requeued = env.cr.fetchone()[0]
    suite.retire(flow_id)
    receiver.__exit__(None, None, None)
    tally = Tally.from_receiver(receiver)
    suite.report(
        "kill",
        f"{len(emitter.markers)} events in a burst; kill -9 of {len(kills)} workers while "
        "they delivered (pid: requests seen in the 0.3 s before): "
        + ", ".join(f"{pid}: {posted}" for pid, posted in kills),
        tally.lost(emitter.markers),
        tally.duplicated(),
        f"{'all delivered' if recovered else 'NOT all delivered'} after {elapsed:.0f} s; "
        f"delivery jobs run more than once (requeued dead, or postponed): {requeued}; "
        f"events under a second id: {tally.new_ids()}; "
        f"out of order aggregates: {tally.out_of_order()}",
    )
    return len(kills) == kills_wanted and tally.new_ids() == 0 and tally.out_of_order() == 0


class InboundPartner:
    """A marketplace posting signed Standard Webhooks (``order.created``, one new order
    each) to Odoo, retrying a message (same id) on a 5xx or a broken connection as Standard
    Webhooks senders do; remembers the ids Odoo accepted."""

    def __init__(self, suite, tag):
        from standardwebhooks.webhooks import Webhook

        from odoo.addons.logistics_sync_webhook import signing

        secret = signing.generate_hmac_secret()
        self.code = f"chaos_in_{tag}"
        self.tag = tag
        with suite.env() as env:
            system = env["logistics.sync.system"].create(
                {
                    "name": f"Chaos marketplace {tag}",
                    "code": self.code,
                    "kind": "marketplace",
                    "inbound_auth": "standard",
                }
            )
            env["logistics.sync.secret"].create(
                {"system_id": system.id, "name": "inbound_signing", "value": secret}
            )
            env["product.product"].create(
                {"name": f"Chaos SKU {tag}", "default_code": f"CHAOS-{tag}", "type": "consu"}
            )
            self.system_id = system.id
        self.webhook = Webhook(secret)
        self.accepted = {}  # message id -> external id
        self.statuses = Counter()
        self.lock = threading.Lock()

    def signed(self, message_id, body):
        now = datetime.now(timezone.utc)
        return {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self.webhook.sign(message_id, now, body),
        }

    def post(self, base, number, retries=8):
        message_id = f"msg_{self.tag}_{number}"
        external_id = f"EXT-{self.tag}-{number}"
        body = json.dumps(
            {
                "type": "order.created",
                "data": {
                    "external_id": external_id,
                    "partner": {"name": "Chaos buyer", "email": f"buyer-{self.tag}@example.com"},
                    "lines": [{"sku": f"CHAOS-{self.tag}", "quantity": 1}],
                },
            }
        )
        url = f"{base}/logistics_sync/webhook/{self.code}"
        for attempt in range(retries):
            try:
                status = requests.post(
                    url, data=body.encode(), headers=self.signed(message_id, body), timeout=30
                ).status_code
            except requests.RequestException:
                status = "connection error"
            with self.lock:
                self.statuses[status] += 1
                if status in (200, 202):
                    self.accepted[message_id] = external_id
                    return
            time.sleep(min(2**attempt, 10))

    def send(self, base, count, rate, threads=2):
        numbers = iter(range(count))
        lock = threading.Lock()
        start = time.monotonic()

        def worker():
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                ahead = start + number / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
                self.post(base, number)

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    def applied(self, suite):
        """(accepted ids not applied yet, accepted ids applied more than once)."""
        with suite.env() as env:
            env.cr.execute(
                """
                SELECT message_id, state FROM logistics_sync_inbound_message
                 WHERE system_id = %s
                """,
                (self.system_id,),
            )
            states = dict(env.cr.fetchall())
            env.cr.execute(
                """
                SELECT client_order_ref, count(*) FROM sale_order
                 WHERE client_order_ref LIKE %s GROUP BY client_order_ref
                """,
                (f"EXT-{self.tag}-%",),
            )
            orders = dict(env.cr.fetchall())
        missing = [
            m for m, ext in self.accepted.items() if states.get(m) != "done" or ext not in orders
        ]
        twice = [m for m, ext in self.accepted.items() if orders.get(ext, 0) > 1]
        return missing, twice


def terminate_odoo_backends(suite):
    """pg_terminate_backend of every connection an Odoo process holds on the database,
    except this script's own; returns how many were terminated."""
    with suite.env() as env:
        env.cr.execute(
            """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
              FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND application_name LIKE 'odoo-%%' AND application_name <> %s
            """,
            (f"odoo-{os.getpid()}",),
        )
        return env.cr.fetchone()[0]


def scenario_postgres(suite):
    """PostgreSQL connections terminated during inbound and outbound bursts: every accepted
    inbound message applied exactly once, no outbound event lost."""
    from odoo.addons.logistics_sync_webhook.tests.receiver import Receiver

    args = suite.args
    events, inbound, rate, rounds, interval = (
        (600, 200, 10, 5, 4) if args.quick else (3000, 1000, 25, 12, 5)
    )
    receiver = Receiver().__enter__()
    tag, flow_id, _system = suite.subscription("postgres", url=receiver.url())
    emitter = Emitter(suite, tag, aggregates=100)
    partner = InboundPartner(suite, tag)
    (server, log) = suite.server("postgres")
    terminated = []
    with server as base:
        # warm: the first requests of a prefork worker load the registry
        requests.get(f"{base}/web/health", timeout=60)
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=emitter.emit, args=(events,), kwargs={"rate": events / (inbound / rate)}
            ),
            threading.Thread(target=partner.send, args=(base, inbound, rate)),
        ]
        for thread in threads:
            thread.start()
        for _round in range(rounds):
            time.sleep(interval)
            terminated.append(terminate_odoo_backends(suite))
        for thread in threads:
            thread.join()
        sent = time.monotonic() - started
        recovered = wait_until(
            lambda: Tally.from_receiver(receiver).lost(emitter.markers) == 0
            and not partner.applied(suite)[0],
            args.recovery,
            step=5,
        )
        recovery = time.monotonic() - started - sent
    suite.retire(flow_id)
    receiver.__exit__(None, None, None)
    tally = Tally.from_receiver(receiver)
    missing, twice = partner.applied(suite)
    suite.report(
        "postgres",
        f"{len(emitter.markers)} outbound events and {inbound} inbound orders over "
        f"{sent:.0f} s; pg_terminate_backend of the Odoo server's connections {rounds} times, "
        f"every {interval} s: {sum(terminated)} connections ({terminated})",
        tally.lost(emitter.markers) + len(missing),
        tally.duplicated() + len(twice),
        f"outbound lost {tally.lost(emitter.markers)}, duplicated {tally.duplicated()}; inbound "
        f"accepted {len(partner.accepted)} (answers {dict(partner.statuses)}), not applied "
        f"{len(missing)}, applied twice {len(twice)}; "
        f"{'recovered' if recovered else 'NOT recovered'} {recovery:.0f} s after the bursts",
    )
    return not twice and tally.new_ids() == 0


def rabbitmqctl(*arguments):
    return subprocess.run(
        ["rabbitmqctl", "-q", *arguments], capture_output=True, text=True, timeout=60, check=True
    ).stdout


def scenario_rabbitmq(suite):
    """RabbitMQ connections closed by the broker during AMQP delivery: confirmed messages
    delivered, unconfirmed ones retried, none lost (counted by consuming the queue)."""
    import pika

    logging.getLogger("pika").setLevel(logging.WARNING)
    args = suite.args
    events, rate, closures = (1000, 40, 5) if args.quick else (5000, 50, 10)
    vhost = "logistics_sync_chaos"
    # a vhost of our own: closing its connections leaves the broker's other users alone
    if vhost not in rabbitmqctl("list_vhosts", "name").split():
        rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    exchange = f"chaos_{suite.run}"
    params = pika.URLParameters(f"{BROKER}{vhost}")
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.exchange_declare(exchange, "topic", durable=True)
    channel.queue_declare(exchange, durable=True)
    channel.queue_bind(exchange, exchange, "#")
    connection.close()
    tag, flow_id, system_id = suite.subscription(
        "rabbitmq",
        transport="amqp",
        amqp_url=f"amqp://guest@127.0.0.1:5672/{vhost}",
        amqp_exchange=exchange,
    )
    with suite.env() as env:
        env["logistics.sync.secret"].create(
            {"system_id": system_id, "name": "amqp_password", "value": "guest"}
        )
    emitter = Emitter(suite, tag, aggregates=250)
    (server, _log) = suite.server("rabbitmq")
    closed = []

    def unsent():
        # counted from the events emitted: an event not routed yet has no message
        with suite.env() as env:
            env.cr.execute(
                "SELECT count(*) FROM logistics_sync_message WHERE flow_id = %s AND state = 'sent'",
                (flow_id,),
            )
            return events - env.cr.fetchone()[0]

    with server:
        started = time.monotonic()
        emitting = threading.Thread(
            target=emitter.emit, args=(events,), kwargs={"rate": rate, "chunk": rate // 2}
        )
        emitting.start()
        # each delivery job opens its own connection: look for them without pause (one
        # rabbitmqctl call takes about a second) and close what is open
        while len(closed) < closures and emitting.is_alive():
            for line in rabbitmqctl("list_connections", "vhost", "pid").splitlines():
                name, _sep, pid = line.partition("\t")
                if name == vhost and pid:
                    try:
                        rabbitmqctl("close_connection", pid.strip(), "chaos suite")
                    except subprocess.CalledProcessError:
                        continue  # closed by Odoo meanwhile
                    closed.append(round(time.monotonic() - started, 1))
        emitting.join()
        recovered = wait_until(
            lambda: len(emitter.markers) == events and unsent() == 0, args.recovery, step=2
        )
        elapsed = time.monotonic() - started
        with suite.env() as env:
            env.cr.execute(
                """
                SELECT count(*) FROM logistics_sync_message_attempt a
                  JOIN logistics_sync_message m ON m.id = a.message_id
                 WHERE m.flow_id = %s AND a.outcome <> 'delivered'
                """,
                (flow_id,),
            )
            failed_attempts = env.cr.fetchone()[0]
    suite.retire(flow_id)
    deliveries = []
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    while True:
        method, properties, body = channel.basic_get(exchange, auto_ack=True)
        if method is None:
            break
        deliveries.append((properties.message_id, json.loads(body), None))
    channel.queue_delete(exchange)
    channel.exchange_delete(exchange)
    connection.close()
    tally = Tally(deliveries)
    suite.report(
        "rabbitmq",
        f"{len(emitter.markers)} events at {rate}/s; the broker closed {len(closed)} of "
        f"Odoo's connections mid-delivery (at seconds {closed})",
        tally.lost(emitter.markers),
        tally.duplicated(),
        f"{len(deliveries)} messages consumed from the queue; publications that failed "
        f"and were retried: {failed_attempts}; "
        f"{'all confirmed' if recovered else 'NOT all confirmed'} after {elapsed:.0f} s; "
        f"events under a second id: {tally.new_ids()}; out of order: {tally.out_of_order()}",
    )
    return tally.new_ids() == 0 and sum(closed) > 0


class Users:
    """Office users on their own Odoo server, timed by ``office_users.py`` in a process of
    its own (this script's emitting threads would hold the interpreter lock while an
    answer waits to be read)."""

    def __init__(self, base, database, count, partner_ids, think=0.0):
        self.base, self.database = base, database
        self.count, self.partner_ids, self.think = count, partner_ids, think

    def run(self, seconds):
        """Latencies (s) of the round trips made during ``seconds``."""
        result = subprocess.run(
            [
                sys.executable,
                os.path.join(os.path.dirname(os.path.abspath(__file__)), "office_users.py"),
                f"--base={self.base}",
                f"--database={self.database}",
                f"--users={self.count}",
                f"--seconds={seconds}",
                f"--think={self.think}",
            ],
            input=json.dumps(self.partner_ids),
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 300,
        )
        return json.loads(result.stdout)


def _burst_runs(value):
    """``0,idle:1`` -> ``[(0, None), ("idle", 1)]``: each run's priority and job slots."""
    runs = []
    for run in filter(None, (part.strip() for part in value.split(","))):
        match = re.fullmatch(r"(idle|after|-?\d+)(?::([1-9]\d*))?", run)
        if not match:
            raise argparse.ArgumentTypeError(
                f"not a niceness, 'idle' or 'after', with job slots from 1 (':2'): {run}"
            )
        nice, slots = match.groups()
        runs.append((nice if nice in ("idle", "after") else int(nice), int(slots or 0) or None))
    if not runs:
        raise argparse.ArgumentTypeError("at least one run")
    return runs


def _times(count):
    return {1: "", 2: "twice "}.get(count, f"{count} times ")


def _priority(nice, slots=None):
    if nice == "after":
        said = "started after the burst (at nice 0)"
    else:
        said = "under SCHED_IDLE" if nice == "idle" else f"at nice {nice}"
    return f"{said}, {slots} job slot{'s' if slots > 1 else ''}" if slots else said


def _phase(name, trips, cpu):
    """One phase of the burst scenario: the users' latencies and the CPU each group used."""
    p50, p99 = percentile(trips, 0.5), percentile(trips, 0.99)
    per_trip = cpu.used.get("users' server", 0.0) / max(len(trips), 1)
    return (
        f"{name}: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms ({len(trips)} trips, "
        f"users' server CPU {per_trip * 1000:.1f} ms a trip; CPU used: {cpu.summary()})"
    )


def scenario_burst(suite):
    """Burst at cut-off: events from concurrent sessions while users work on a second Odoo
    server (no job runner) of the same database; their latency with and without it, side by
    side with the job server at the same CPU priority as the users' one and at a lower one
    (``--burst-runs``). The partner receiving the events runs under SCHED_IDLE (see
    :class:`ReceiverProcess`)."""
    args = suite.args
    events, window, emitters = (4000, 20, 4) if args.quick else (20000, 60, 4)
    users, think = args.burst_users, args.burst_think
    receiver = ReceiverProcess().__enter__()
    tag, flow_id, _system = suite.subscription("burst", url=receiver.url())
    emitter = Emitter(suite, tag, aggregates=1000)
    with suite.env() as env:
        contacts = env["res.partner"].create(
            [{"name": f"Chaos contact {suite.run} {i}"} for i in range(200)]
        )
        contact_ids = contacts.ids
    (users_server, users_log) = suite.server("burst_users", job_runner=None, workers=2)
    notes = []

    def backends():
        with suite.env() as env:
            env.cr.execute(
                "SELECT pid, application_name FROM pg_stat_activity WHERE datname = %s",
                [args.database],
            )
            return dict(env.cr.fetchall())

    with users_server as users_base:
        # warm-up, back to back: every worker loads the registry
        Users(users_base, args.database, users, contact_ids).run(5)
        office = Users(users_base, args.database, users, contact_ids, think)
        for index, (nice, slots) in enumerate(args.burst_runs, 1):
            # "after": the job server starts once the burst is emitted (it then runs at
            # nice 0): the users meet the emitting transactions alone
            jobs_later = nice == "after"
            (jobs_server, jobs_log) = suite.server(
                f"burst_jobs_{index}_nice_{nice}_slots_{slots or 'default'}",
                nice=0 if jobs_later else nice,
                **({"channels": f"root:{slots}"} if slots else {}),
            )
            servers = {
                "users' server": users_log,
                "job server": jobs_log,
                "users (office_users.py)": "office_users.py",
                "emitters (chaos.py)": "chaos.py",
                "partner (receiver)": receiver.process.pid,
            }
            with ExitStack() as running:
                if not jobs_later:
                    running.enter_context(jobs_server)
                    # the job server settles first (workers load the registry, the cron
                    # worker runs what was due at its start): the quiet phase measures it
                    # idle
                    warm_up = len(emitter.markers)
                    emitter.emit(100, chunk=25)
                    wait_until(delivered_all(receiver, emitter.markers[warm_up:]), 120, step=1)
                    time.sleep(10)
                with CpuMeter(servers, backends) as quiet_cpu:
                    quiet = office.run(window)
                started = time.monotonic()
                pool = [
                    threading.Thread(
                        target=emitter.emit,
                        args=(events // emitters,),
                        kwargs={"rate": events / emitters / window, "chunk": 25},
                    )
                    for _ in range(emitters)
                ]
                for thread in pool:
                    thread.start()
                with CpuMeter(servers, backends) as busy_cpu:
                    busy = office.run(window)
                for thread in pool:
                    thread.join()
                emitted = time.monotonic() - started
                if jobs_later:
                    running.enter_context(jobs_server)
                recovered = wait_until(
                    delivered_all(receiver, emitter.markers), args.recovery, step=2
                )
                delivered = time.monotonic() - started
                # and once more without the burst once all is delivered: what drifts over
                # the run (the machine's neighbours, the tables) shows as two quiet phases
                # that differ
                time.sleep(10)
                with CpuMeter(servers, backends) as after_cpu:
                    after = office.run(window)
            busy_p99 = percentile(busy, 0.99)
            notes.append(
                f"job server {_priority(nice, slots)}: {events} events emitted in {emitted:.0f} s; "
                f"{'all delivered' if recovered else 'NOT all delivered'} {delivered:.0f} s "
                f"after the burst started; users' round trip (search 80 contacts, read one, "
                f"write it) {_phase('before the burst', quiet, quiet_cpu)}; "
                f"{_phase('during it', busy, busy_cpu)}; {_phase('after it', after, after_cpu)}; "
                f"p99 ratio to the quiet phase before {busy_p99 / percentile(quiet, 0.99):.2f}, "
                f"after {busy_p99 / percentile(after, 0.99):.2f} (target <= 1.5)"
            )
    suite.retire(flow_id)
    receiver.__exit__(None, None, None)
    tally = Tally.from_receiver(receiver)
    suite.report(
        "burst",
        f"{_times(len(args.burst_runs))}{events} events aimed at {window} s "
        f"from {emitters} concurrent sessions "
        f"(25 a transaction, {'an _emit each' if args.emit_one_by_one else 'one _emit_many'}) "
        f"while {users} users ({f'{think} s between round trips' if think else 'back to back'}) "
        f"work on a second server, the job server "
        f"{', then '.join(_priority(*run) for run in args.burst_runs)}",
        tally.lost(emitter.markers),
        tally.duplicated(),
        "; ".join(notes),
    )
    return True


def _secret_from(action):
    return action["params"]["message"].rsplit(" ", 1)[-1]


_PRINTABLE = "".join(chr(code) for code in range(33, 127))


class RawResponse:
    """What the fuzzer reads of an ``http.client`` answer, named as in ``requests``."""

    def __init__(self, response):
        self.status_code = response.status
        self.headers = dict(response.getheaders())
        self.text = response.read().decode("utf-8", errors="replace")


class Fuzzer:
    """Sends generated requests and counts what came back."""

    def __init__(self, base):
        self.base = base
        self.local = threading.local()
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.server_errors = []
        self.not_json = Counter()
        self.samples = {}  # (target, status) -> an example of a non-JSON answer
        self.sent = Counter()
        self.seconds = Counter()

    def parallel(self, requests_to_send, threads=4):
        """Send ``(target, method, path, kwargs)`` tuples from ``threads`` clients (the
        server has as many workers); return the responses in the same order."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(lambda r: self.send(r[0], r[1], r[2], **r[3]), requests_to_send))

    def send(self, target, method, path, headers=None, raw=False, **kwargs):
        """Send one request; ``raw`` sends the path byte for byte (see :meth:`_send_raw`)."""
        with self.lock:
            self.sent[target] += 1
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        # raw UTF-8 bytes on the wire, as a misbehaving client would send them
        headers = {name: value.encode() for name, value in (headers or {}).items()}
        try:
            if raw:
                response = self._send_raw(method, path, headers, kwargs.get("data"))
            else:
                response = self.local.session.request(
                    method,
                    self.base + path,
                    headers=headers,
                    timeout=30,
                    allow_redirects=False,
                    **kwargs,
                )
        except (requests.RequestException, OSError, http.client.HTTPException) as exc:
            with self.lock:
                self.statuses["connection error"] += 1
                self.server_errors.append((target, method, path, type(exc).__name__))
            return None
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.server_errors.append((target, method, path[:120], response.text[:200]))
        self.check_json(target, method, path, response)
        return response

    def _send_raw(self, method, path, headers, body):
        # requests resolves ".." segments before sending (urllib3 normalises the URL) and
        # re-encodes "%": "/logistics_sync/../orders/x" would reach the server as "/orders/x",
        # outside the routes fuzzed here. http.client sends the path as generated; only
        # characters outside printable ASCII are percent-encoded, as a browser does.
        address = urlsplit(self.base)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        try:
            connection.request(method, quote(path, safe=_PRINTABLE), body=body, headers=headers)
            return RawResponse(connection.getresponse())
        finally:
            connection.close()

    def check_json(self, target, method, path, response):
        # the metrics route answers Prometheus text; its refusals are JSON like every route's
        if (target == "metrics" and response.status_code < 300) or method == "HEAD":
            return
        with self.lock:
            content_type = response.headers.get("Content-Type") or response.headers.get(
                "content-type"
            )
            if isinstance(content_type, list):  # schemathesis: lower-case names, lists
                content_type = content_type[0] if content_type else None
            if "json" in (content_type or ""):
                return
            self.not_json[target, response.status_code] += 1
            self.samples.setdefault(
                (target, response.status_code),
                f"{method} {path[:80]} -> {content_type}: {response.text[:80]!r}",
            )


def _random_json(rng, depth=0):
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**31, 2**63, 1e308, -0.0, rng.randint(-(10**6), 10**6)])
    if kind in (3, 4):
        return rng.choice(
            ["", "x" * rng.randint(1, 5000), "\u0000", "é😀", "../../etc", "%2F", "' OR 1=1 --"]
        )
    if kind == 5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["type", "data", "id", "external_id", "lines", "sku", "quantity", "partner", "x"]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _order_body(rng, tag, number):
    """An order.created envelope with some fields mutated."""
    body = {
        "type": "order.created",
        "data": {
            "external_id": f"FUZZ-{tag}-{number}",
            "partner": {"name": "Fuzz buyer", "email": f"fuzz-{tag}@example.com"},
            "lines": [{"sku": f"CHAOS-{tag}", "quantity": 1}],
        },
    }
    data, partner, line = body["data"], body["data"]["partner"], body["data"]["lines"][0]
    for target in rng.sample([body, data, partner, line], rng.randint(0, 3)):
        target[rng.choice([*target, "extra"])] = _random_json(rng)
    return body


def fuzz_inbound(fuzzer, partner, rng, count):
    """Signed and unsigned, well- and ill-formed requests to the inbound webhook route."""
    url = f"/logistics_sync/webhook/{partner.code}"
    accepted, batch = {}, []
    for number in range(count):
        message_id = f"fuzz_{partner.tag}_{number}"
        choice = rng.randrange(10)
        if choice < 4:  # a signed envelope with mutated fields
            body = json.dumps(_order_body(rng, partner.tag, number)).encode()
        elif choice < 6:  # signed random JSON
            body = json.dumps(_random_json(rng)).encode()
        elif choice < 7:  # signed random bytes
            body = rng.randbytes(rng.randint(0, 4096))
        else:  # a valid order whose headers get mutated below
            body = json.dumps(_order_body(random.Random(0), partner.tag, number)).encode()
        headers = partner.signed(message_id, body.decode("utf-8", errors="replace"))
        if choice >= 7:
            mutation = rng.randrange(8)
            if mutation == 0:
                headers["webhook-signature"] = "v1," + rng.randbytes(32).hex()
            elif mutation == 1:
                headers["webhook-timestamp"] = rng.choice(["-1", "9" * 30, "now", "", "1e9"])
            elif mutation == 2:
                headers["webhook-id"] = rng.choice(["", "a/b/../c", "x" * 5000, "é😀", "%00"])
            elif mutation == 3:
                headers["content-type"] = rng.choice(["text/plain", "", "application/xml", "*/*"])
            elif mutation == 4:
                headers.pop(rng.choice(list(headers)))
            elif mutation == 5:
                headers["Content-Length"] = str(rng.choice([0, 10**9]))
            elif mutation == 6:
                headers["webhook-signature"] = "garbage " * rng.randint(0, 50)
            else:
                headers["Transfer-Encoding"] = "chunked"
        method = "POST" if rng.random() < 0.95 else rng.choice(["GET", "PUT", "DELETE", "PATCH"])
        if headers.get("Content-Length") == str(10**9):
            method = "POST"  # a lying length: requests sends it as given
        batch.append(("inbound", method, url, {"data": body, "headers": headers}))
    for request, response in zip(batch, fuzzer.parallel(batch), strict=True):
        if response is not None and response.status_code == 202:
            accepted[request[3]["headers"].get("webhook-id")] = response.status_code
    return accepted


def fuzz_paths(fuzzer, rng, count, metrics_token):
    """Unknown, encoded and traversal paths under /logistics_sync/, and the metrics route
    with good and bad credentials and queries."""
    pieces = [
        "api",
        "v1",
        "webhook",
        "metrics",
        "orders",
        "..",
        "%2e%2e",
        "%2F",
        "x" * 300,
        "é",
        "%00",
        ";",
        "openapi.json",
        "",
        "stock",
        "shipments",
        "events",
        "%ZZ",
    ]
    batch = []
    for _ in range(count):
        if rng.random() < 0.3:
            token = rng.choice([metrics_token, "", "Bearer x", metrics_token + "x"])
            query = "&".join(f"{rng.choice(pieces)}={rng.choice(pieces)}" for _ in range(3))
            batch.append(
                (
                    "metrics",
                    rng.choice(["GET", "GET", "POST", "HEAD", "DELETE"]),
                    f"/logistics_sync/metrics?{query}",
                    {"headers": {"Authorization": f"Bearer {token}" if token else ""}, "raw": True},
                )
            )
            continue
        path = "/logistics_sync/" + "/".join(rng.choice(pieces) for _ in range(rng.randint(0, 5)))
        batch.append(
            (
                "paths",
                rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
                path,
                {
                    "data": rng.randbytes(rng.randint(0, 200)),
                    "headers": {"Content-Type": rng.choice(["application/json", "text/plain", ""])},
                    "raw": True,
                },
            )
        )
    fuzzer.parallel(batch)


def fuzz_api(fuzzer, base, secret, examples):
    """schemathesis: cases generated from the live OpenAPI document, positive and negative
    data, sent with a valid key."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    api_base = f"{base}/logistics_sync/api/v1"
    schema = schemathesis.openapi.from_url(f"{api_base}/openapi.json")
    headers = {"Authorization": f"Bearer {secret}"}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case):
                fuzzer.sent["api"] += 1
                try:
                    response = case.call(base_url=api_base, headers=headers, timeout=30)
                except requests.RequestException as exc:
                    fuzzer.statuses["connection error"] += 1
                    fuzzer.server_errors.append(("api", case.method, case.path, str(exc)))
                    return
                fuzzer.statuses[response.status_code] += 1
                if response.status_code >= 500:
                    fuzzer.server_errors.append(
                        ("api", case.method, case.formatted_path, response.text[:200])
                    )
                fuzzer.check_json("api", case.method, case.formatted_path, response)

            check()


def scenario_fuzz(suite):
    """Generated requests against the live prefork server: no 5xx, no traceback in the log,
    nothing accepted then lost."""
    args = suite.args
    api_examples, inbound, paths = (50, 300, 200) if args.quick else (420, 3000, 2000)
    tag = f"fuzz_{suite.run}"
    partner = InboundPartner(suite, tag)
    with suite.env() as env:
        key = env["logistics.sync.api.key"].create(
            {
                "name": f"Chaos {tag}",
                "system_id": partner.system_id,
                "scope_ids": [(6, 0, env["logistics.sync.api.scope"].search([]).ids)],
                "rate_limit": 0,
            }
        )
        secret = _secret_from(key.action_generate())
        metrics = env["logistics.sync.metrics.token"].create({"name": f"Chaos {tag}"})
        metrics_token = _secret_from(metrics.action_generate())
    (server, log) = suite.server("fuzz")
    rng = random.Random(suite.run)
    with server as base:
        fuzzer = Fuzzer(base)
        started = time.monotonic()
        fuzz_api(fuzzer, base, secret, api_examples)
        fuzzer.seconds["api"] = time.monotonic() - started
        accepted = fuzz_inbound(fuzzer, partner, rng, inbound)
        fuzzer.seconds["inbound"] = time.monotonic() - started - sum(fuzzer.seconds.values())
        fuzz_paths(fuzzer, rng, paths, metrics_token)
        sent = time.monotonic() - started
        fuzzer.seconds["paths and metrics"] = sent - sum(fuzzer.seconds.values())

        def stuck():
            with suite.env() as env:
                env.cr.execute(
                    """
                    SELECT message_id, state FROM logistics_sync_inbound_message
                     WHERE system_id = %s
                    """,
                    (partner.system_id,),
                )
                states = dict(env.cr.fetchall())
            return [m for m in accepted if states.get(m) in (None, "received")]

        settled = wait_until(lambda: not stuck(), args.recovery, step=5)
    lost = stuck()
    with suite.env() as env:
        env.cr.execute(
            """
            SELECT state, count(*) FROM logistics_sync_inbound_message
             WHERE system_id = %s GROUP BY state
            """,
            (partner.system_id,),
        )
        states = dict(env.cr.fetchall())
    total = sum(fuzzer.sent.values())
    for error in fuzzer.server_errors[:10]:
        print(f"[fuzz] 5xx: {error}")
    for (target, status), sample in sorted(fuzzer.samples.items(), key=str):
        print(f"[fuzz] not JSON ({target}, {status}), e.g. {sample}")
    suite.report(
        "fuzz",
        f"{total} generated requests in {sent:.0f} s ({dict(fuzzer.sent)}; seconds "
        f"{ {name: round(value) for name, value in fuzzer.seconds.items()} })",
        len(lost),
        0,
        f"answers {dict(sorted(fuzzer.statuses.items(), key=str))}; 5xx: "
        f"{sum(1 for e in fuzzer.server_errors)}; tracebacks in the server log: "
        f"{tracebacks(log)}; answers that are not JSON (a metrics scrape aside): "
        f"{dict(fuzzer.not_json)}; inbound accepted (202) {len(accepted)}, now {states}, "
        f"{'settled' if settled else 'NOT settled'}",
    )
    return not fuzzer.server_errors and tracebacks(log) == 0


SCENARIOS = {
    "flapping": scenario_flapping,
    "kill": scenario_kill,
    "postgres": scenario_postgres,
    "rabbitmq": scenario_rabbitmq,
    "burst": scenario_burst,
    "fuzz": scenario_fuzz,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)}")
    parser.add_argument("--quick", action="store_true", help="short phases and bursts")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--channels",
        default="root:2",
        help="queue_job channels of the runner (two job slots leave two workers for requests)",
    )
    parser.add_argument(
        "--recovery", type=int, default=900, help="longest wait for recovery, seconds"
    )
    parser.add_argument(
        "--burst-runs",
        default="0,idle",
        type=_burst_runs,
        help="burst: the runs, in order, each the job server's CPU priority: a niceness "
        "(0: the users' own), 'idle' (Linux's SCHED_IDLE policy, chrt --idle 0) or 'after' "
        "(started once the burst is emitted, at nice 0: the users meet the emitting "
        "transactions alone), optionally with its job slots (idle:1: channels root:1; "
        "default: --channels); default 0,idle; each run's ratios are to the quiet phases "
        "just before and after its burst",
    )
    parser.add_argument(
        "--burst-users", type=int, default=4, help="burst: office users on the users' server"
    )
    parser.add_argument(
        "--burst-think",
        type=float,
        default=0.0,
        help="burst: each office user's mean pause between round trips, seconds (default 0: "
        "back to back, the users alone keep the machine's cores busy)",
    )
    parser.add_argument(
        "--emit-one-by-one",
        action="store_true",
        help="emitters write each event with its own _emit (default: a transaction's events "
        "with one _emit_many, as the business hooks do)",
    )
    parser.add_argument("--log-dir", default="/tmp")
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    # stopped with SIGTERM: unwind, so that the servers this script started are stopped too
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    suite = Suite(args)
    failures = []
    for name in args.scenarios or list(SCENARIOS):
        print(f"=== {name} ===", flush=True)
        if not SCENARIOS[name](suite):
            failures.append(name)
    print("\nscenario | mode | lost | duplicated | injected")
    for scenario, mode, injected, lost, duplicated, _notes in suite.results:
        print(f"{scenario} | {mode} | {lost} | {duplicated} | {injected}")
    lost = sum(result[3] for result in suite.results)
    if failures:
        print(f"checks other than loss failed in: {', '.join(failures)}")
    return 1 if lost or failures else 0


if __name__ == "__main__":
    sys.exit(main())
