import uuid
from datetime import timedelta

from odoo import _, fields, models

from .. import delivery
from .logistics_sync_message_attempt import EXCERPT_LIMIT


class LogisticsSyncMessage(models.Model):
    _inherit = "logistics.sync.message"

    next_attempt_at = fields.Datetime(
        readonly=True, index=True, help="When a failed message is tried again."
    )
    attempt_ids = fields.One2many("logistics.sync.message.attempt", "message_id", readonly=True)
    last_status_code = fields.Integer(readonly=True)
    delivered_at = fields.Datetime(readonly=True)

    # ------------------------------------------------------------ transport hooks
    def _send_http(self):
        self.flow_id._schedule_delivery()

    def _send_amqp(self):
        self.flow_id._schedule_delivery()

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
        now = fields.Datetime.now()
        Attempt = self.env["logistics.sync.message.attempt"].sudo()
        dead = self.browse()
        for message in self:
            attempts = message.attempt_count + 1
            values = {"attempt_count": attempts, "last_status_code": status_code}
            logged = outcome
            if outcome == delivery.DELIVERED:
                values.update(
                    state="sent", delivered_at=now, next_attempt_at=False, last_error=False
                )
            else:
                values["last_error"] = error or _("HTTP %s", status_code)
                schedule = delivery.parse_schedule(message.flow_id.retry_schedule)
                delay = delivery.retry_delay(schedule, attempts)
                if retry_after is not None:
                    delay = max(delay or 0, retry_after) if delay is not None else None
                if outcome == delivery.GONE:
                    values.update(state="failed", next_attempt_at=False)
                elif delay is None:
                    values.update(state="dead", next_attempt_at=False)
                    logged = "dead"
                    dead |= message
                else:
                    values.update(state="failed", next_attempt_at=now + timedelta(seconds=delay))
            message.write(values)
            Attempt.create(
                {
                    "message_id": message.id,
                    "attempted_at": now,
                    "status_code": status_code,
                    "duration_ms": int(duration * 1000),
                    "response_excerpt": (excerpt or "")[:EXCERPT_LIMIT] or False,
                    "error": error or False,
                    "outcome": logged,
                }
            )
        dead._announce_dead()

    def _refuse(self, reason):
        """Dead-letter without sending: the message itself can never be delivered as is."""
        for message in self:
            message.write({"state": "dead", "last_error": reason, "next_attempt_at": False})
            self.env["logistics.sync.message.attempt"].sudo().create(
                {"message_id": message.id, "status_code": 0, "error": reason, "outcome": "refused"}
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
