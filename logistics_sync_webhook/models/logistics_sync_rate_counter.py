import time
from datetime import datetime, timezone

from odoo import api, fields, models

from .. import inbound


class LogisticsSyncRateCounter(models.Model):
    """Requests counted per bucket (an inbound system, an API key) over fixed windows, in
    PostgreSQL: every Odoo worker process and server on the database shares one count.

    One UPSERT per request on the bucket's row, in a transaction of its own that commits at
    once (READ COMMITTED): the row is locked for that statement only, so concurrent requests
    never wait for each other's whole request nor fail to serialize on it.
    """

    _name = "logistics.sync.rate.counter"
    _description = "Logistics Sync Rate Limit Counter"
    _log_access = False
    _rec_name = "bucket"

    bucket = fields.Char(required=True, readonly=True, help="What is counted, e.g. inbound:7.")
    window_start = fields.Datetime(required=True, readonly=True)
    hits = fields.Integer(readonly=True, help="Requests accepted in this window so far.")

    _sql_constraints = [("bucket_unique", "UNIQUE(bucket)", "One counter per bucket.")]

    @api.model
    def _hit(self, bucket, limit, window, now=None):
        """Count one request in ``bucket``; return ``0`` if it is within ``limit`` requests
        per ``window`` seconds (``limit`` 0: no limit), else the seconds until the next
        window. A refused request is not counted."""
        if not limit or limit <= 0:
            return 0
        window = max(int(window or 1), 1)
        now = time.time() if now is None else now
        start = int(now // window) * window
        registry = self.env.registry
        with registry.cursor() as cr:
            if not registry.in_test_mode():
                # a test cursor is a savepoint of the test's transaction: no isolation to set
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cr.execute(
                """
                INSERT INTO logistics_sync_rate_counter AS counter (bucket, window_start, hits)
                VALUES (%(bucket)s, %(start)s, 1)
                ON CONFLICT (bucket) DO UPDATE
                   SET hits = CASE WHEN counter.window_start = EXCLUDED.window_start
                                   THEN counter.hits + 1 ELSE 1 END,
                       window_start = EXCLUDED.window_start
                 WHERE counter.window_start <> EXCLUDED.window_start
                    OR counter.hits < %(limit)s
                RETURNING hits
                """,
                {
                    "bucket": bucket,
                    "start": datetime.fromtimestamp(start, timezone.utc).replace(tzinfo=None),
                    "limit": limit,
                },
            )
            allowed = bool(cr.fetchone())
        return 0 if allowed else max(int(start + window - now + 0.999), 1)

    @api.model
    def _check(self, bucket, limit, window):
        """:meth:`_hit`, raising :class:`~..inbound.InboundError` 429 with Retry-After when
        over the limit."""
        wait = self._hit(bucket, limit, window)
        if wait:
            raise inbound.rate_limited(limit, window, wait)
