import uuid
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

#: Messages inserted per statement when routing
CREATE_BATCH = 500


class LogisticsSyncMessage(models.Model):
    """One delivery of one event through one flow to its destination.

    Its ``uid`` is created once and never changes across retries or replays: receivers use it
    to drop duplicates. PostgreSQL allows one message per (event, flow).
    """

    _name = "logistics.sync.message"
    _description = "Logistics Sync Message"
    _order = "id desc"
    _rec_name = "uid"

    # the UNIQUE constraint indexes it
    uid = fields.Char(string="Message ID", required=True, readonly=True)
    event_id = fields.Many2one(
        "logistics.sync.event", required=True, readonly=True, ondelete="cascade"
    )
    flow_id = fields.Many2one(
        "logistics.sync.flow", required=True, readonly=True, ondelete="cascade"
    )
    system_id = fields.Many2one("logistics.sync.system", required=True, readonly=True, index=True)
    company_id = fields.Many2one(related="event_id.company_id", store=True)
    type_code = fields.Char(related="event_id.type_code", store=True, string="Type")
    aggregate_canonical_id = fields.Char(
        related="event_id.aggregate_canonical_id", store=True, index=True
    )
    sequence = fields.Integer(related="event_id.sequence")
    transport = fields.Selection(related="flow_id.transport")
    payload = fields.Json(readonly=True, help="The event payload after the flow's policy.")
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("sent", "Delivered"),
            ("failed", "Failed, will retry"),
            ("dead", "Dead-lettered"),
            ("cancelled", "Cancelled"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    attempt_count = fields.Integer(readonly=True)
    last_error = fields.Text(readonly=True)
    deadline = fields.Datetime(readonly=True, help="When the flow's SLA expires for this message.")
    batched = fields.Boolean(
        readonly=True,
        help="Goes out with the flow's scheduled batch: the flow is a batch flow, or the "
        "event type is of batch criticality (snapshots, costs, history, reference data).",
    )

    _sql_constraints = [
        ("uid_unique", "UNIQUE(uid)", "Message ids are unique."),
        (
            "event_flow_unique",
            "UNIQUE(event_id, flow_id)",
            "An event is delivered once per flow.",
        ),
    ]

    @api.model
    def _create_for(self, event, flow):
        """Create the message of ``event`` for ``flow``; an existing one is kept as it is
        (the UNIQUE constraint absorbs a duplicate routing), and nothing is returned for it."""
        return self._create_for_many([(event, flow)])

    @api.model
    def _create_for_many(self, pairs):
        """Create the messages of ``pairs`` of (event, flow) in one statement, in the order
        given; return the messages created. Pairs that already have their message are
        skipped (the UNIQUE constraint absorbs a duplicate routing)."""
        if not pairs:
            return self.browse()
        payload_field = self._fields["payload"]
        rows = []
        for event, flow in pairs:
            deadline = (
                event.create_date + timedelta(minutes=flow.sla_minutes)
                if flow.sla_minutes
                else None
            )
            rows.append(
                (
                    str(uuid.uuid4()),
                    event.id,
                    flow.id,
                    flow.system_id.id,
                    event.company_id.id or None,
                    event.type_code,
                    event.aggregate_canonical_id,
                    payload_field.convert_to_column(flow._shape(event.payload or {}), self),
                    deadline,
                    flow.mode == "batch" or event.criticality == "batch",
                )
            )
        ids = []
        for start in range(0, len(rows), CREATE_BATCH):
            ids += self._insert_rows(rows[start : start + CREATE_BATCH])
        # written in SQL, behind the ORM cache
        events = self.env["logistics.sync.event"].browse({event.id for event, _flow in pairs})
        events.invalidate_recordset(["message_ids"])
        return self.browse(sorted(ids))

    def _insert_rows(self, rows):
        # ids follow the VALUES order: the messages of one aggregate keep their sequence order
        row_sql = "(%s, %s::int, %s::int, %s::int, %s::int, %s, %s, %s::jsonb, %s::timestamp, %s)"
        values = ", ".join([row_sql] * len(rows))
        self.env.cr.execute(
            f"""
            INSERT INTO logistics_sync_message
                (uid, event_id, flow_id, system_id, company_id, type_code,
                 aggregate_canonical_id, payload, state, attempt_count, deadline, batched,
                 create_uid, create_date, write_uid, write_date)
            SELECT v.uid, v.event_id, v.flow_id, v.system_id, v.company_id, v.type_code,
                   v.canonical_id, v.payload, 'pending', 0, v.deadline, v.batched,
                   %s, now() at time zone 'UTC', %s, now() at time zone 'UTC'
              FROM (VALUES {values}) AS v (uid, event_id, flow_id, system_id, company_id,
                                          type_code, canonical_id, payload, deadline, batched)
            ON CONFLICT (event_id, flow_id) DO NOTHING
            RETURNING id
            """,  # noqa: S608 - placeholders only
            [self.env.uid, self.env.uid] + [value for row in rows for value in row],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _dispatch(self):
        """Hand real-time messages to their transport's ``_send_<transport>`` method, one
        call per transport; batch messages wait for their schedule."""
        by_transport = defaultdict(lambda: self.browse())
        for message in self.filtered(lambda m: not m.batched):
            by_transport[message.flow_id.transport] |= message
        for transport, messages in by_transport.items():
            sender = getattr(messages, f"_send_{transport}", None)
            if sender:
                sender()

    def action_cancel(self):
        self.filtered(lambda m: m.state in ("pending", "failed")).write({"state": "cancelled"})
