import uuid

from odoo import api, fields, models
from odoo.tools import SQL


class LogisticsSyncRecord(models.Model):
    """One row per Odoo record that takes part in sync: its stable canonical id (a UUID that
    never changes and is shared with every system) and the last event sequence of the aggregate.

    Both are handed out with a single ``INSERT ... ON CONFLICT`` statement, so concurrent
    transactions serialise on the row lock and a rolled-back transaction leaves no gap.
    """

    _name = "logistics.sync.record"
    _description = "Logistics Sync Canonical Record"
    _rec_name = "canonical_id"
    _order = "id desc"

    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(
        string="Record ID", model_field="res_model", required=True, readonly=True
    )
    canonical_id = fields.Char(required=True, readonly=True)
    last_sequence = fields.Integer(
        readonly=True, help="Sequence of the last event emitted for this aggregate."
    )

    _sql_constraints = [
        ("record_unique", "UNIQUE(res_model, res_id)", "A record has one canonical id."),
        ("canonical_unique", "UNIQUE(canonical_id)", "A canonical id names one record."),
    ]

    @api.model
    def _canonical_id(self, record):
        """Return the canonical UUID of ``record``, creating it on first use."""
        record.ensure_one()
        self.env.cr.execute(
            """
            WITH ins AS (
                INSERT INTO logistics_sync_record
                    (res_model, res_id, canonical_id, last_sequence, create_uid, create_date,
                     write_uid, write_date)
                VALUES (%(model)s, %(id)s, %(uuid)s, 0, %(uid)s, now() at time zone 'UTC',
                        %(uid)s, now() at time zone 'UTC')
                ON CONFLICT (res_model, res_id) DO NOTHING
                RETURNING canonical_id
            )
            SELECT canonical_id FROM ins
            UNION ALL
            SELECT canonical_id FROM logistics_sync_record
             WHERE res_model = %(model)s AND res_id = %(id)s
            LIMIT 1
            """,
            {
                "model": record._name,
                "id": record.id,
                "uuid": str(uuid.uuid4()),
                "uid": self.env.uid,
            },
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _reserve_sequences_query(self, counts):
        """The statement reserving the next event sequences of aggregates: ``counts`` maps
        ``(model, id)`` to how many events each gets. It returns ``res_model, res_id,
        canonical_id, last_sequence``: an aggregate's events take the ``count`` numbers up
        to ``last_sequence``. The events' INSERT embeds it (one round trip).

        Each row stays locked until the transaction ends: a concurrent emitter for the same
        aggregate waits, then gets the following numbers; a rollback gives them back. One
        statement locks its rows in one order (model, id), so two of them naming the same
        aggregates in different orders do not deadlock on each other (transactions that
        run several may still).
        """
        return SQL(
            """
            INSERT INTO logistics_sync_record AS r
                (res_model, res_id, canonical_id, last_sequence, create_uid, create_date,
                 write_uid, write_date)
            VALUES %(rows)s
            ON CONFLICT (res_model, res_id)
                DO UPDATE SET last_sequence = r.last_sequence + EXCLUDED.last_sequence
            RETURNING res_model, res_id, canonical_id, last_sequence
            """,
            rows=SQL(", ").join(
                SQL(
                    "(%s, %s, %s, %s, %s, now() at time zone 'UTC', %s, "
                    "now() at time zone 'UTC')",
                    model,
                    res_id,
                    str(uuid.uuid4()),
                    count,
                    self.env.uid,
                    self.env.uid,
                )
                for (model, res_id), count in sorted(counts.items())
            ),
        )

    @api.model
    def _resolve_canonical(self, canonical_id):
        """Return the Odoo record named by ``canonical_id``, or ``None``."""
        row = self.search_read([("canonical_id", "=", canonical_id)], ["res_model", "res_id"])
        return self.env[row[0]["res_model"]].browse(row[0]["res_id"]) if row else None
