import random
import uuid

import odoo
from odoo.tests import tagged

from odoo.addons.logistics_sync_core.tests.common import CommittedCase

from .. import retention

OLD_DELIVERED = 2300  # more than two batches of 1,000


@tagged("post_install", "-at_install")
class TestDeliveredRetention(CommittedCase):
    """Delivered messages and their attempts are deleted after the retention period by the
    daily cron, 1,000 per transaction, skipping rows someone holds; the rest is kept."""

    def setUp(self):
        super().setUp()
        self.tag = f"ret-{uuid.uuid4().hex[:8]}"
        with self._cursor() as env:
            system = self._remember(
                env["logistics.sync.system"].create(
                    {"name": "Retention WMS", "code": self.tag, "kind": "wms"}
                )
            )
            event_type = env["logistics.sync.event.type"]._get("order.confirmed")
            flow = self._remember(
                env["logistics.sync.flow"].create(
                    {
                        "name": "Retention flow",
                        "system_id": system.id,
                        "event_type_ids": [(6, 0, event_type.ids)],
                        "transport": "http",
                        "url": "https://partner.example.com/hook",
                    }
                )
            )
            self.addCleanup(self._forget_events)
            # (state, delivered how many days ago, how many)
            self.groups = {
                "old_sent": ("sent", 40, OLD_DELIVERED),
                "recent_sent": ("sent", 5, 30),
                "old_dead": ("dead", None, 20),
                "old_failed": ("failed", None, 20),
            }
            for name, (state, days, count) in self.groups.items():
                self._insert(env, flow, event_type, name, state, days, count)
            self.cron_id = env.ref("logistics_sync_webhook.ir_cron_logistics_sync_message_purge").id

    def _insert(self, env, flow, event_type, name, state, days, count):
        cr = env.cr
        cr.execute(
            """
            INSERT INTO logistics_sync_event
                (uid, event_type_id, type_code, aggregate_model, aggregate_id,
                 aggregate_canonical_id, sequence, state, create_date, write_date)
            SELECT %(tag)s || '-' || %(name)s || '-' || g, %(type)s, 'order.confirmed',
                   'res.partner', %(aggregate)s, %(tag)s || '-' || %(name)s, g, 'routed',
                   now() at time zone 'UTC' - interval '60 days',
                   now() at time zone 'UTC' - interval '60 days'
              FROM generate_series(1, %(count)s) g
            """,
            {
                "tag": self.tag,
                "name": name,
                "type": event_type.id,
                "count": count,
                # an aggregate of its own: sequences are unique per aggregate
                "aggregate": random.randint(10**8, 2**31 - 1),
            },
        )
        cr.execute(
            """
            INSERT INTO logistics_sync_message
                (uid, event_id, flow_id, system_id, type_code, state, attempt_count, batched,
                 delivered_at, create_date, write_date)
            SELECT e.uid, e.id, %(flow)s, %(system)s, 'order.confirmed', %(state)s, 1, false,
                   CASE WHEN %(days)s::int IS NULL THEN NULL
                        ELSE now() at time zone 'UTC' - %(days)s::int * interval '1 day' END,
                   e.create_date, e.create_date
              FROM logistics_sync_event e
             WHERE e.aggregate_canonical_id = %(tag)s || '-' || %(name)s
            """,
            {
                "flow": flow.id,
                "system": flow.system_id.id,
                "state": state,
                "days": days,
                "tag": self.tag,
                "name": name,
            },
        )
        cr.execute(
            """
            INSERT INTO logistics_sync_message_attempt (message_id, attempted_at, outcome)
            SELECT m.id, m.create_date, 'delivered' FROM logistics_sync_message m
              JOIN logistics_sync_event e ON e.id = m.event_id
             WHERE e.aggregate_canonical_id = %(tag)s || '-' || %(name)s
            """,
            {"tag": self.tag, "name": name},
        )

    def _forget_events(self):
        with self._cursor() as env:  # messages and attempts go with them (ON DELETE CASCADE)
            env.cr.execute(
                "DELETE FROM logistics_sync_event WHERE aggregate_canonical_id LIKE %s",
                (f"{self.tag}-%",),
            )

    def _counts(self, env):
        env.cr.execute(
            """
            SELECT e.aggregate_canonical_id, count(DISTINCT m.id), count(a.id)
              FROM logistics_sync_event e
              JOIN logistics_sync_message m ON m.event_id = e.id
              LEFT JOIN logistics_sync_message_attempt a ON a.message_id = m.id
             WHERE e.aggregate_canonical_id LIKE %s
             GROUP BY 1
            """,
            (f"{self.tag}-%",),
        )
        return {key[len(self.tag) + 1 :]: (m, a) for key, m, a in env.cr.fetchall()}

    def _run_cron(self):
        """One run of the daily cron as Odoo's cron worker runs it: each call of the purge
        in its own transaction, again while it reports rows remaining."""
        IrCron = self.registry["ir.cron"]
        with self._cursor() as env:
            env["ir.cron"].browse(self.cron_id).write({"active": True, "nextcall": "2000-01-01"})
        db = odoo.sql_db.db_connect(self.env.cr.dbname)
        with db.cursor() as cron_cr:
            job = IrCron._acquire_one_job(cron_cr, self.cron_id)
            self.assertTrue(job, "the purge cron is ready to run")
            IrCron._process_job(db, cron_cr, job)

    def test_daily_cron_purges_old_delivered_messages_in_batches_skipping_held_rows(self):
        self.assertEqual(retention.PURGE_BATCH, 1000)
        with self._cursor() as env:
            before = self._counts(env)
        self.assertEqual(before["old_sent"], (OLD_DELIVERED, OLD_DELIVERED))
        with self._cursor() as user_env:
            # a user (or a job) holds one old delivered message meanwhile
            user_env.cr.execute(
                """
                SELECT m.id FROM logistics_sync_message m
                  JOIN logistics_sync_event e ON e.id = m.event_id
                 WHERE e.aggregate_canonical_id = %s
                 ORDER BY m.id LIMIT 1 FOR UPDATE
                """,
                (f"{self.tag}-old_sent",),
            )
            held = user_env.cr.fetchone()[0]
            self._run_cron()  # does not wait for the user: the row is skipped
            with self._cursor() as env:
                after = self._counts(env)
            user_env.cr.rollback()
        self.assertEqual(after["old_sent"], (1, 1), "only the held message is left")
        for name in ("recent_sent", "old_dead", "old_failed"):
            self.assertEqual(after[name], before[name], f"{name} are kept")
        with self._cursor() as env:
            progress = env["ir.cron.progress"].search(
                [("cron_id", "=", self.cron_id)], order="id desc", limit=3
            )
            self.assertEqual(
                sorted(progress.mapped("done")), [299, 1000, 1000], "three transactions"
            )
        self._run_cron()  # the next day: the message no longer held goes too
        with self._cursor() as env:
            self.assertNotIn("old_sent", self._counts(env))
            self.assertFalse(env["logistics.sync.message"].browse(held).exists())
            # 0 keeps them
            env["ir.config_parameter"].set_param(
                "logistics_sync_webhook.message_retention_days", "0"
            )
            env.cr.execute(
                "UPDATE logistics_sync_message SET delivered_at = '2000-01-01' "
                "WHERE uid LIKE %s",
                (f"{self.tag}-recent_sent-%",),
            )
            self.assertEqual(env["logistics.sync.message"]._cron_purge_delivered(), 0)
            env.cr.rollback()
