import json
import uuid
from collections import Counter
from datetime import timedelta

import psycopg2
from psycopg2.extras import Json as PsycopgJson

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import create_index

from odoo.addons.queue_job.fields import JobEncoder

ROUTE_CHANNEL = "root.logistics_sync.route"
#: Most events one routing job is given by transactions that join it
ROUTE_BATCH = 500
#: Seconds a new routing job waits for the transactions that follow to join it, when
#: events are being routed under a burst; a quiet system's job starts at once
ROUTE_GATHER = 1
#: Routing jobs done in the last ``ROUTE_GATHER`` seconds that make a burst
ROUTE_GATHER_JOBS = 3
#: Most events one statement of ``_emit_many`` writes
EMIT_BATCH = 1000

CONTEXT_NO_EVENT = "logistics_sync_no_event"
CONTEXT_ORIGIN = "logistics_sync_origin_system_id"
CONTEXT_CORRELATION = "logistics_sync_correlation_id"
CONTEXT_CAUSATION = "logistics_sync_causation_id"


def _job_records(records):
    """A queue_job row's ``records`` as a dict: queue_job keeps the serialized recordset as
    a JSON text in its jsonb column."""
    return json.loads(records) if isinstance(records, str) else records


class _NotJoined(Exception):
    """A waiting routing job that cannot take a transaction's events."""


class LogisticsSyncEvent(models.Model):
    """The transactional outbox: one canonical business event, written in the same database
    transaction as the change that caused it, so it exists if and only if that change
    committed. After the commit, one queue_job job per transaction routes the new events to
    the matching flows.

    Emit from business code with::

        self.env["logistics.sync.event"]._emit("order.confirmed", order, {...})

    Context keys: ``logistics_sync_no_event`` suppresses emission,
    ``logistics_sync_origin_system_id`` records the system a change was made on behalf of
    (no echo back to it), ``logistics_sync_correlation_id`` / ``logistics_sync_causation_id``
    chain events of one conversation.
    """

    _name = "logistics.sync.event"
    _description = "Logistics Sync Event"
    _order = "id desc"
    _rec_name = "uid"

    # the UNIQUE constraint indexes it: a second index would cost every emission a write
    uid = fields.Char(string="Event ID", required=True, readonly=True)
    event_type_id = fields.Many2one(
        "logistics.sync.event.type", required=True, readonly=True, ondelete="restrict"
    )
    # precomputed: written with the row, not by a second UPDATE per event
    type_code = fields.Char(
        related="event_type_id.code", store=True, precompute=True, string="Type", index=True
    )
    criticality = fields.Selection(related="event_type_id.criticality")
    aggregate_model = fields.Char(required=True, readonly=True)
    aggregate_id = fields.Many2oneReference(
        string="Aggregate record ID",
        model_field="aggregate_model",
        required=True,
        readonly=True,
    )
    aggregate_canonical_id = fields.Char(
        string="Aggregate canonical ID", required=True, readonly=True, index=True
    )
    aggregate_ref = fields.Char(
        string="Aggregate", readonly=True, help="Display name of the record when emitted."
    )
    sequence = fields.Integer(
        required=True,
        readonly=True,
        help="Gap-free position of this event among the events of the same aggregate.",
    )
    payload = fields.Json(readonly=True)
    origin_system_id = fields.Many2one(
        "logistics.sync.system",
        readonly=True,
        ondelete="set null",
        help="The system the change was made on behalf of; empty when made in Odoo.",
    )
    correlation_id = fields.Char(readonly=True, index=True)
    causation_id = fields.Char(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    state = fields.Selection(
        [("new", "To route"), ("routed", "Routed")],
        default="new",
        required=True,
        readonly=True,
        index=True,
    )
    message_ids = fields.One2many("logistics.sync.message", "event_id")
    message_count = fields.Integer(compute="_compute_message_count", string="Messages")

    _sql_constraints = [
        ("uid_unique", "UNIQUE(uid)", "Event ids are unique."),
        (
            "aggregate_sequence_unique",
            "UNIQUE(aggregate_model, aggregate_id, sequence)",
            "An aggregate cannot have two events with the same sequence.",
        ),
    ]

    def init(self):
        # Events that joined a routing job waiting for the runner (see
        # _join_waiting_routing); the job deletes its rows when it routes them.
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS logistics_sync_event_route_join (
                job_id integer NOT NULL REFERENCES queue_job (id) ON DELETE CASCADE,
                event_id integer NOT NULL REFERENCES logistics_sync_event (id)
                    ON DELETE CASCADE
            )
            """
        )
        for column in ("job_id", "event_id"):
            create_index(
                self.env.cr,
                f"logistics_sync_event_route_join_{column}_index",
                "logistics_sync_event_route_join",
                [column],
            )
        # "Is an earlier event of this aggregate still unrouted?" is asked for every
        # message about to be sent: answered from the unrouted events only, not by a walk
        # of the aggregate's whole history.
        create_index(
            self.env.cr,
            "logistics_sync_event_unrouted_index",
            self._table,
            ["aggregate_model", "aggregate_id", "sequence"],
            where="state = 'new'",
        )

    def _compute_message_count(self):
        groups = self.env["logistics.sync.message"]._read_group(
            [("event_id", "in", self.ids)], ["event_id"], ["__count"]
        )
        counts = {event.id: count for event, count in groups}
        for event in self:
            event.message_count = counts.get(event.id, 0)

    @api.model
    def _emit(self, type_code, record, payload, company=None):
        """Write a ``type_code`` event about ``record`` in the current transaction.

        ``payload`` is validated against the type's JSON Schema (``ValidationError`` naming
        the failing path). Return the event, or an empty recordset when emission is
        suppressed by the ``logistics_sync_no_event`` context key. To emit about several
        records at once, :meth:`_emit_many` writes them with one statement.
        """
        return self._emit_many(type_code, [(record, payload, company)])

    @api.model
    def _emit_many(self, type_code, emissions):
        """Write one ``type_code`` event per ``(record, payload)`` or ``(record, payload,
        company)`` of ``emissions`` in the current transaction, with one statement per
        ``EMIT_BATCH`` events; return the events in the order given (an empty recordset when
        emission is suppressed).

        Every payload is validated before anything is written. A record may appear more
        than once: its events take consecutive sequences in the order given, and their ids
        follow the same order. Without a company, an event takes its record's when the
        model has a ``company_id`` field (empty for a record shared between companies),
        else the environment's.
        """
        emissions = list(emissions)
        if self.env.context.get(CONTEXT_NO_EVENT) or not emissions:
            return self.browse()
        event_type = self.env["logistics.sync.event.type"]._get(type_code)
        emitted = []
        for emission in emissions:
            if len(emission) not in (2, 3):
                raise ValueError(f"(record, payload[, company]) expected, not {emission!r}")
            record, payload, company = (*emission, None)[:3]
            record.ensure_one()
            event_type._validate(payload)
            if company is None:
                company = record.company_id if "company_id" in record._fields else self.env.company
            emitted.append((record, payload, company))
        ids = []
        for start in range(0, len(emitted), EMIT_BATCH):
            ids += self._write_events(event_type, type_code, emitted[start : start + EMIT_BATCH])
        events = self.sudo().browse(ids)
        self._schedule_routing(events)
        return events

    def _write_events(self, event_type, type_code, emitted):
        """Insert the ``type_code`` events ``emitted`` (record, payload, company) with their
        sequences' reservation in one statement; return their ids in the order given."""
        context = self.env.context
        counts = Counter((record._name, record.id) for record, _payload, _company in emitted)
        seen = Counter()
        rows = []
        for position, (record, payload, company) in enumerate(emitted):
            seen[record._name, record.id] += 1
            rows.append(
                SQL(
                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    position,
                    str(uuid.uuid4()),
                    record._name,
                    record.id,
                    # its sequence's distance from the aggregate's last one
                    counts[record._name, record.id] - seen[record._name, record.id],
                    record.display_name or None,
                    PsycopgJson(payload),
                    context.get(CONTEXT_CORRELATION) or str(uuid.uuid4()),
                    company.id or None,
                )
            )
        # One statement with the sequences' reservation, not the ORM's create: under a
        # burst, emission runs in the users' transactions, and create's bookkeeping for
        # rows nothing in the transaction reads back cost more than the INSERT itself
        # (./dev bench outbox_overhead), and so did a statement per event when a call
        # emits several (./dev bench emit_many). Nothing computed depends on events.
        # The sort comes before the ids are drawn, and the reservation's locks before the
        # sort: an aggregate's events have ids in the order of their sequences, also
        # across transactions (routing creates messages in id order).
        self.env.cr.execute(
            SQL(
                """
                WITH next AS (%(next)s),
                     emitted (position, uid, model, res_id, before_last, ref, payload,
                              correlation, company) AS (VALUES %(rows)s)
                INSERT INTO logistics_sync_event
                    (uid, event_type_id, type_code, aggregate_model, aggregate_id,
                     aggregate_canonical_id, aggregate_ref, sequence, payload,
                     origin_system_id, correlation_id, causation_id, company_id, state,
                     create_uid, create_date, write_uid, write_date)
                SELECT emitted.uid, %(type_id)s, %(type_code)s, emitted.model, emitted.res_id,
                       next.canonical_id, emitted.ref,
                       next.last_sequence - emitted.before_last,
                       emitted.payload::jsonb, %(origin)s, emitted.correlation, %(causation)s,
                       emitted.company::integer, 'new', %(user)s, %(now)s, %(user)s, %(now)s
                  FROM emitted
                  JOIN next ON next.res_model = emitted.model AND next.res_id = emitted.res_id
                 ORDER BY emitted.position
                RETURNING id
                """,
                next=self.env["logistics.sync.record"]._reserve_sequences_query(counts),
                rows=SQL(", ").join(rows),
                type_id=event_type.id,
                type_code=type_code,  # the type was found by it: no read of its row
                origin=context.get(CONTEXT_ORIGIN) or None,
                causation=context.get(CONTEXT_CAUSATION) or None,
                user=self.env.uid,
                now=self.env.cr.now(),
            )
        )
        # ids are drawn in the order given (see above)
        return sorted(row[0] for row in self.env.cr.fetchall())

    def _schedule_routing(self, events):
        # One routing job per transaction, created just before the commit: a rolled-back
        # transaction leaves neither the events nor the job.
        data = self.env.cr.precommit.data
        pending = data.setdefault("logistics_sync.events_to_route", [])
        if not pending:
            self.env.cr.precommit.add(self._enqueue_routing)
        pending.extend(events.ids)

    def _enqueue_routing(self):
        ids = self.env.cr.precommit.data.pop("logistics_sync.events_to_route", [])
        if not ids or self._join_waiting_routing(ids):
            return
        self.sudo().browse(ids).with_delay(
            channel=ROUTE_CHANNEL,
            description="Route logistics events",
            eta=ROUTE_GATHER if self._routing_in_progress() else None,
        ).route()
        self.env.flush_all()

    def _routing_in_progress(self):
        """Whether events are being routed under a burst: a routing job enqueued or
        started, or ``ROUTE_GATHER_JOBS`` done in the last ``ROUTE_GATHER`` seconds. Under
        a burst, a routing job per transaction cost more in queue_job (job row, runner,
        HTTP request, commits) than routing its events, because the runner starts each at
        once; and transactions that commit together cannot see each other's jobs, so each
        made its own, and the runner had routed them all before the next ones came. A job
        created then waits ``ROUTE_GATHER`` seconds, and the transactions that follow join
        it (:meth:`_join_waiting_routing`). A steady trickle (a transaction a second) is
        routed at once, as is the first event after a quiet second. Read in this
        transaction's snapshot: a job that finished since makes the new one wait for
        nothing, a second at most."""
        self.env.cr.execute(
            """
            SELECT EXISTS (
                       SELECT 1 FROM queue_job
                        WHERE state IN ('enqueued', 'started')
                          AND channel = %(channel)s AND model_name = %(model)s
                          AND method_name = 'route'
                   )
                OR (
                       SELECT count(*) FROM (
                           -- the (channel, date_done) index: done jobs are kept for days
                           SELECT 1 FROM queue_job
                            WHERE channel = %(channel)s AND date_done >= %(since)s
                              AND model_name = %(model)s AND method_name = 'route'
                            LIMIT %(burst)s
                       ) done
                   ) >= %(burst)s
            """,
            {
                "channel": ROUTE_CHANNEL,
                "model": self._name,
                "since": fields.Datetime.now() - timedelta(seconds=ROUTE_GATHER),
                "burst": ROUTE_GATHER_JOBS,
            },
        )
        return self.env.cr.fetchone()[0]

    def _join_waiting_routing(self, ids):
        """Add the events ``ids`` to a routing job that still waits for the runner, instead
        of a job of their own; return whether one took them.

        Under a burst, jobs wait (see :meth:`_routing_in_progress`). A job that was never
        tried is joined whether or not it waits for its eta; one the runner tried and
        postponed (a retry) is not. The events are written beside the job
        (``logistics_sync_event_route_join``), not into its row, which is only locked:
        the runner, which writes the row to take the job, waits for this transaction to
        commit, and the job then sees its events. (Writing the joined ids into the row
        made every transaction that began before another one's join fail its lock with a
        serialization error and make a job of its own: most of them, under a burst. A
        lock alone does not: the row is unchanged.) The lock is exclusive: a share lock
        let a burst's joiners queue ahead of the runner's write, which waits for one
        joiner at most; the others take the next waiting job. A job the runner took
        since this transaction began fails the lock with a serialization error, and the
        events get a job of their own, as they do when every waiting job is locked, or
        the job belongs to another user or context, or is full (``ROUTE_BATCH``, counted
        from this transaction's snapshot: joins committing together may pass it); a job
        turned down is unlocked at once."""
        cr = self.env.cr
        expected = JobEncoder().default(self.sudo().browse(ids))
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """
                    SELECT id, records FROM queue_job
                     WHERE channel = %s AND model_name = %s AND method_name = 'route'
                       AND state = 'pending' AND retry = 0
                     ORDER BY id DESC
                     LIMIT 1
                       FOR NO KEY UPDATE SKIP LOCKED
                    """,
                    (ROUTE_CHANNEL, self._name),
                    log_exceptions=False,
                )
                row = cr.fetchone()
                if not row:
                    return False
                job_id, records = row
                records = _job_records(records)
                if not all(records.get(k) == expected[k] for k in ("uid", "su", "context")):
                    raise _NotJoined  # rolled back to the savepoint: the row is unlocked
                cr.execute(
                    "SELECT count(*) FROM logistics_sync_event_route_join WHERE job_id = %s",
                    (job_id,),
                )
                if len(records.get("ids") or ()) + cr.fetchone()[0] + len(ids) > ROUTE_BATCH:
                    raise _NotJoined
                cr.execute(
                    """
                    INSERT INTO logistics_sync_event_route_join (job_id, event_id)
                    SELECT %s, unnest(%s::integer[])
                    """,
                    (job_id, list(ids)),
                )
        except (psycopg2.errors.SerializationFailure, _NotJoined):
            return False
        return True

    def route(self):
        """Create one message per matching flow for each event (public job entry point).
        Run as a job, the events that joined it are routed too (and their join rows
        deleted with the same commit)."""
        job_uuid = self.env.context.get("job_uuid")
        if not job_uuid:
            return self._route()
        self.env.cr.execute(
            """
            DELETE FROM logistics_sync_event_route_join j
             USING queue_job q
             WHERE q.id = j.job_id AND q.uuid = %s
         RETURNING j.event_id
            """,
            (job_uuid,),
        )
        joined = self.browse([row[0] for row in self.env.cr.fetchall()])
        return (self | joined)._route()

    @api.model
    def _cron_route_left(self, limit=2000):
        """Every minute: route the events still unrouted a minute after they were written
        and whose routing job is not waiting or running any more: the job gave up (its
        database connection was cut, so queue_job marked it failed) or was lost. No event
        waits for a person, and a backlog of routing jobs is left to them. Routing is
        idempotent: one message per event and flow."""
        self.env.cr.execute(
            """
            SELECT q.records, array_remove(array_agg(j.event_id), NULL)
              FROM queue_job q
              LEFT JOIN logistics_sync_event_route_join j ON j.job_id = q.id
             WHERE q.model_name = %s AND q.method_name = 'route'
               AND q.state IN ('wait_dependencies', 'pending', 'enqueued', 'started')
             GROUP BY q.id
            """,
            (self._name,),
        )
        queued = set()
        for records, joined in self.env.cr.fetchall():
            queued.update(_job_records(records).get("ids") or ())
            queued.update(joined)
        events = self.sudo().search(
            [
                ("state", "=", "new"),
                ("create_date", "<", fields.Datetime.subtract(fields.Datetime.now(), minutes=1)),
                ("id", "not in", list(queued)),
            ],
            order="id",
            limit=limit,
        )
        events._route()
        return len(events)

    def _route(self):
        flows = self.env["logistics.sync.flow"].sudo().search([("active", "=", True)])
        # in id order: the messages of one aggregate are then created in sequence order
        events = self.filtered(lambda e: e.state == "new").sorted("id")
        pairs = [(event, flow) for event in events for flow in flows if flow._matches(event)]
        # one statement for all: a statement per message cost more than the rest of routing
        messages = self.env["logistics.sync.message"]._create_for_many(pairs)
        self.write({"state": "routed"})
        messages._dispatch()
        return messages

    def action_view_messages(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Messages"),
            "res_model": "logistics.sync.message",
            "view_mode": "list,form",
            "domain": [("event_id", "=", self.id)],
        }
