import uuid
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import create_index

from .. import delivery, retention
from .logistics_sync_message_attempt import EXCERPT_LIMIT

#: Days a delivered message and its attempts are kept (system parameter
#: ``logistics_sync_webhook.message_retention_days``).
RETENTION_DAYS = 30


class LogisticsSyncMessage(models.Model):
    _inherit = "logistics.sync.message"

    next_attempt_at = fields.Datetime(
        readonly=True, index=True, help="When a failed message is tried again."
    )
    attempt_ids = fields.One2many("logistics.sync.message.attempt", "message_id", readonly=True)
    last_status_code = fields.Integer(readonly=True)
    delivered_at = fields.Datetime(readonly=True, index=True)

    def init(self):
        # What a subscription still has to send, in id order: the delivery jobs and the
        # minute cron look for it on every run. Without it PostgreSQL walks the whole
        # message table in id order (61 ms and 13,000 pages with 100,000 delivered
        # messages, bench/scale.py; 0.05 ms with it).
        create_index(
            self.env.cr,
            "logistics_sync_message_ready_index",
            self._table,
            ["flow_id", "id"],
            where="state IN ('pending', 'failed')",
        )
        # A ready message waits for an earlier one of its aggregate still to send: found
        # among what is left to send of that aggregate, not among everything it ever sent
        # (per message, a walk of the aggregate's whole history otherwise: 48 events and
        # 0.13 ms each in bench/scale.py at 100,000 events, growing with it).
        create_index(
            self.env.cr,
            "logistics_sync_message_aggregate_ready_index",
            self._table,
            ["flow_id", "aggregate_canonical_id"],
            where="state IN ('pending', 'failed')",
        )

    @api.model
    def _create_for_many(self, pairs):
        messages = super()._create_for_many(pairs)
        if len(messages) < len(pairs):
            # the UNIQUE constraint absorbed a second routing: counted for the monitor
            created = {(message.event_id.id, message.flow_id.id) for message in messages}
            edge_log = self.env["logistics.sync.edge.log"]
            for event, flow in pairs:
                if (event.id, flow.id) not in created:
                    edge_log._log("outbound", "duplicate", flow.system_id)
        return messages

    @api.model
    def _cron_purge_delivered(self, batch=retention.PURGE_BATCH):
        """Delete the messages delivered more than
        ``logistics_sync_webhook.message_retention_days`` days ago (30; ``0`` keeps them)
        with their attempts, one batch per transaction; the undelivered ones (pending,
        failed, dead-lettered, cancelled) are kept."""
        return retention.purge(
            self,
            "logistics_sync_webhook.message_retention_days",
            RETENTION_DAYS,
            domain=[("state", "=", "sent")],
            batch=batch,
            date_field="delivered_at",
        )

    # ------------------------------------------------------------ transport hooks
    def _send_http(self):
        self.flow_id._schedule_delivery()

    _send_amqp = _send_http

    # ------------------------------------------------------------ body
    def _envelope(self):
        self.ensure_one()
        event = self.event_id
        return delivery.envelope(
            message_id=self.uid,
            type_code=event.type_code,
            version=event.event_type_id.version,
            occurred_at=fields.Datetime.to_string(event.create_date) + "Z",
            aggregate={
                "type": event.aggregate_model,
                "id": event.aggregate_canonical_id,
                "sequence": event.sequence,
            },
            data=self.payload or {},
            correlation_id=event.correlation_id or None,
            causation_id=event.causation_id or None,
            origin=event.origin_system_id.code or None,
        )

    def _body(self):
        """The exact bytes sent and signed; the same on every retry."""
        return delivery.canonical_bytes(self._envelope())

    # ------------------------------------------------------------ outcomes
    def _record_attempt(
        self, status_code, duration, outcome, excerpt=None, error=None, retry_after=None
    ):
        """Log one attempt on each message and move it along its state machine."""
        self._record_attempts(
            [
                {
                    "message": message,
                    "status_code": status_code,
                    "duration": duration,
                    "outcome": outcome,
                    "excerpt": excerpt,
                    "error": error,
                    "retry_after": retry_after,
                }
                for message in self
            ]
        )

    def _record_attempts(self, results):
        """Record many attempts at once (dicts as :meth:`_record_attempt`'s arguments plus
        ``message``): delivered messages in one UPDATE per status code, attempts in one
        INSERT, the rest message by message."""
        if not results:
            return
        now = fields.Datetime.now()
        delivered_by_status = {}
        dead = self.browse()
        attempt_values = []
        for result in results:
            message, outcome = result["message"], result["outcome"]
            logged = outcome
            if outcome == delivery.DELIVERED:
                delivered_by_status.setdefault(result["status_code"], []).append(message.id)
            else:
                logged = message._schedule_retry(result, now)
                if logged == "dead":
                    dead |= message
            attempt_values.append(
                {
                    "message_id": message.id,
                    "attempted_at": now,
                    "status_code": result["status_code"],
                    "duration_ms": int(result["duration"] * 1000),
                    "response_excerpt": (result.get("excerpt") or "")[:EXCERPT_LIMIT] or False,
                    "error": result.get("error") or False,
                    "outcome": logged,
                }
            )
        for status_code, ids in delivered_by_status.items():
            self.env.cr.execute(
                """
                UPDATE logistics_sync_message
                   SET state = 'sent', delivered_at = %(now)s, next_attempt_at = NULL,
                       last_error = NULL, last_status_code = %(status)s,
                       attempt_count = attempt_count + 1,
                       write_date = %(now)s, write_uid = %(uid)s
                 WHERE id = ANY(%(ids)s)
                """,
                {"now": now, "status": status_code, "uid": self.env.uid, "ids": ids},
            )
            self.browse(ids).invalidate_recordset(
                [
                    "state",
                    "delivered_at",
                    "next_attempt_at",
                    "last_error",
                    "last_status_code",
                    "attempt_count",
                    "write_date",
                    "write_uid",
                ]
            )
        self._insert_attempts(attempt_values)
        dead._announce_dead()

    def _insert_attempts(self, attempt_values):
        """Insert the attempts ``attempt_values`` (dicts of the attempt's fields:
        ``message_id``, ``attempted_at`` and ``outcome`` required, a value of its
        selection) in one statement, in the order given; each takes its message's
        company. Not the ORM's create: a delivery job records up to 250 attempts at once,
        and create's bookkeeping for rows nothing in the job reads back took about a fifth
        of a 250-message job's time (cProfile against the test receiver: 80 of 450 ms;
        18 ms with this statement)."""
        if not attempt_values:
            return
        self.flush_model(["company_id"])
        rows = [
            SQL(
                "(%s, %s::int, %s::timestamp, %s::int, %s::int, %s, %s, %s)",
                position,
                values["message_id"],
                values["attempted_at"],
                values.get("status_code") or 0,
                values.get("duration_ms") or 0,
                values.get("response_excerpt") or None,
                values.get("error") or None,
                values["outcome"],
            )
            for position, values in enumerate(attempt_values)
        ]
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO logistics_sync_message_attempt
                    (message_id, company_id, attempted_at, status_code, duration_ms,
                     response_excerpt, error, outcome,
                     create_uid, create_date, write_uid, write_date)
                SELECT v.message_id, m.company_id, v.attempted_at, v.status_code,
                       v.duration_ms, v.excerpt, v.error, v.outcome,
                       %(user)s, %(now)s, %(user)s, %(now)s
                  FROM (VALUES %(rows)s) AS v (position, message_id, attempted_at,
                                               status_code, duration_ms, excerpt, error,
                                               outcome)
                  JOIN logistics_sync_message m ON m.id = v.message_id
                 ORDER BY v.position
                """,
                rows=SQL(", ").join(rows),
                user=self.env.uid,
                now=self.env.cr.now(),
            )
        )
        if self.env.cr.rowcount != len(rows):  # the join lost an attempt: a bug, not data
            raise ValueError("attempts of messages that do not exist")
        # written in SQL, behind the ORM cache
        self.browse({values["message_id"] for values in attempt_values}).invalidate_recordset(
            ["attempt_ids"]
        )

    def _schedule_retry(self, result, now):
        """After a failed attempt: the next attempt time, or dead-letter; returns the
        outcome to log."""
        attempts = self.attempt_count + 1
        values = {
            "attempt_count": attempts,
            "last_status_code": result["status_code"],
            "last_error": result.get("error") or _("HTTP %s", result["status_code"]),
        }
        logged = result["outcome"]
        delay = delivery.retry_delay(delivery.parse_schedule(self.flow_id.retry_schedule), attempts)
        retry_after = result.get("retry_after")
        if retry_after is not None and delay is not None:
            delay = max(delay, retry_after)
        if result["outcome"] == delivery.GONE:
            values.update(state="failed", next_attempt_at=False)
        elif delay is None:
            values.update(state="dead", next_attempt_at=False)
            logged = "dead"
        else:
            values.update(state="failed", next_attempt_at=now + timedelta(seconds=delay))
        self.write(values)
        return logged

    def _refuse(self, reason):
        """Dead-letter without sending: the message itself can never be delivered as is."""
        self.write({"state": "dead", "last_error": reason, "next_attempt_at": False})
        now = fields.Datetime.now()
        self._insert_attempts(
            [
                {
                    "message_id": message.id,
                    "attempted_at": now,
                    "error": reason,
                    "outcome": "refused",
                }
                for message in self
            ]
        )
        self._announce_dead()

    def _announce_dead(self):
        for flow in self.flow_id:
            flow._notify_managers(
                _("Messages dead-lettered"),
                _(
                    "Messages of %s were dead-lettered. Open the subscription's dead-lettered "
                    "messages, fix the cause, then replay them.",
                    flow.name,
                ),
            )

    # ------------------------------------------------------------ replay
    def _replay(self, as_new=False):
        """Send again. The message id is kept (receivers deduplicate on it) unless
        ``as_new``, which gives it a fresh id so receivers treat it as a new message."""
        for message in self:
            values = {
                "state": "pending",
                "attempt_count": 0,
                "next_attempt_at": False,
                "last_error": False,
            }
            if as_new:
                values["uid"] = str(uuid.uuid4())
            message.write(values)
        self.flow_id._schedule_delivery()
