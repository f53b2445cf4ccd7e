import threading
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import Command, fields
from odoo.service.model import retrying
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.job import Job

from ..models import logistics_sync_event as event_module
from ..models.logistics_sync_event import ROUTE_GATHER, ROUTE_GATHER_JOBS
from .common import CommittedCase


@tagged("post_install", "-at_install")
class TestOutboxCommit(CommittedCase):
    """Promise 1: an event exists if and only if its business transaction committed."""

    def _count_events(self, model, res_id):
        with self._cursor() as env:
            return env["logistics.sync.event"].search_count(
                [("aggregate_model", "=", model), ("aggregate_id", "=", res_id)]
            )

    def _setup_partner(self):
        with self._cursor() as env:
            partner = self._remember(env["res.partner"].create({"name": "Committed customer"}))
            product = env["product.product"].create(
                {"name": "Committed product", "type": "service"}
            )
            self._remember(product.product_tmpl_id)
            self._remember(product)
            return partner.id, product.id

    def _confirm_order(self, env, partner_id, product_id):
        order = env["sale.order"].create(
            {
                "partner_id": partner_id,
                "order_line": [Command.create({"product_id": product_id, "product_uom_qty": 1})],
            }
        )
        order.action_confirm()
        return order

    def test_rolled_back_confirmation_leaves_no_event_and_no_job(self):
        partner_id, product_id = self._setup_partner()
        with self._cursor() as env:
            jobs_before = env["queue.job"].search_count([])
            order = self._confirm_order(env, partner_id, product_id)
            order_id = order.id
            self.assertEqual(
                env["logistics.sync.event"].search_count(
                    [("aggregate_id", "=", order_id), ("aggregate_model", "=", "sale.order")]
                ),
                1,
                "the event is written inside the transaction",
            )
            env.cr.rollback()
        self.assertEqual(self._count_events("sale.order", order_id), 0)
        with self._cursor() as env:
            self.assertEqual(env["queue.job"].search_count([]), jobs_before)

    def test_committed_confirmation_has_its_event_and_routing_job(self):
        partner_id, product_id = self._setup_partner()
        with self._cursor() as env:
            order = self._confirm_order(env, partner_id, product_id)
            order_id = order.id
            env.cr.commit()
            job = self._remember_emitted(env, order)
            self._remember(order.order_line)
            self._remember(order)
        self.assertEqual(self._count_events("sale.order", order_id), 1)
        self.assertEqual(len(job), 1, "exactly one routing job was committed with the event")


@tagged("post_install", "-at_install")
class TestSequenceConcurrency(CommittedCase):
    """Per-aggregate sequences stay gap-free and monotonic across concurrent transactions."""

    def setUp(self):
        super().setUp()
        self.addCleanup(self._forget_emitted)
        with self._cursor() as env:
            self.event_type = self._remember(
                env["logistics.sync.event.type"].create(
                    {
                        "name": "Concurrency probe",
                        "code": "test.concurrency",
                        "json_schema": '{"type": "object"}',
                    }
                )
            )
            self.partner = self._remember(env["res.partner"].create({"name": "Aggregate"}))

    def _emit(self, env):
        partner = env["res.partner"].browse(self.partner.id)
        return (
            env["logistics.sync.event"]
            .with_context(tracking_disable=True)
            ._emit("test.concurrency", partner, {})
        )

    def _sequences(self):
        with self._cursor() as env:
            return (
                env["logistics.sync.event"]
                .search(
                    [
                        ("aggregate_model", "=", "res.partner"),
                        ("aggregate_id", "=", self.partner.id),
                    ],
                    order="sequence",
                )
                .mapped("sequence")
            )

    def _forget_emitted(self):
        with self._cursor() as env:
            self._remember_emitted(env, env["res.partner"].browse(self.partner.id))

    def _emit_in_thread(self, results, started):
        def target():
            with self._cursor() as env:
                started.set()
                # Odoo runs every request and job like this: a serialization failure on
                # the aggregate row rolls back and retries the whole transaction.
                with mute_logger("odoo.sql_db", "odoo.service.model"):
                    event = retrying(lambda: self._emit(env), env)
                    results.append((event.sequence, event.id))
                env.cr.commit()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    def test_concurrent_emitters_wait_and_take_the_next_number(self):
        results, started = [], threading.Event()
        with self._cursor() as env:
            self.assertEqual(self._emit(env).sequence, 1)
            thread = self._emit_in_thread(results, started)
            started.wait(10)
            thread.join(0.5)
            self.assertTrue(thread.is_alive(), "the second emitter waits for the first")
            # drawn while the other transaction waits for the aggregate's row
            second = self._emit(env)
            second = (second.sequence, second.id)
            env.cr.commit()
        thread.join(10)
        self.assertEqual((second[0], [sequence for sequence, _id in results]), (2, [3]))
        # the waiting emitter's id is drawn after its wait: routing's id order is the
        # aggregate's order
        self.assertGreater(results[0][1], second[1])
        self.assertEqual(self._sequences(), [1, 2, 3])

    def test_rolled_back_emitter_leaves_no_gap(self):
        results, started = [], threading.Event()
        with self._cursor() as env:
            self.assertEqual(self._emit(env).sequence, 1)
            thread = self._emit_in_thread(results, started)
            started.wait(10)
            thread.join(0.5)
            env.cr.rollback()
        thread.join(10)
        self.assertEqual(
            [sequence for sequence, _id in results],
            [1],
            "the number given back by the rollback is reused",
        )
        self.assertEqual(self._sequences(), [1])


@tagged("post_install", "-at_install")
class TestRoutingJobJoin(CommittedCase):
    """A transaction's events join a routing job that still waits for the runner (fewer
    jobs under a burst), only when that job cannot start before the transaction commits."""

    def setUp(self):
        super().setUp()
        self.addCleanup(self._forget_emitted)
        with self._cursor() as env:
            self._remember(
                env["logistics.sync.event.type"].create(
                    {"name": "Join probe", "code": "test.join", "json_schema": '{"type": "object"}'}
                )
            )
            self.partners = self._remember(
                env["res.partner"].create([{"name": f"Join {i}"} for i in range(3)])
            )

    def _forget_emitted(self):
        with self._cursor() as env:
            for partner in self.partners.with_env(env):
                self._remember_emitted(env, partner)

    def _emit_in(self, env, index):
        """Emit about partner ``index`` in ``env``'s transaction; return the event's id."""
        partner = self.partners[index].with_env(env)
        return env["logistics.sync.event"]._emit("test.join", partner, {}).id

    def _emit_and_commit(self, index):
        with self._cursor() as env:
            event_id = self._emit_in(env, index)
            env.cr.commit()
            return event_id

    @staticmethod
    def _job_events(env, job):
        """The events ``job`` routes: its own and those that joined it."""
        env.cr.execute(
            "SELECT event_id FROM logistics_sync_event_route_join WHERE job_id = %s", [job.id]
        )
        return sorted(job.records.ids + [row[0] for row in env.cr.fetchall()])

    def _events_by_job(self, env, jobs):
        return [self._job_events(env, job) for job in jobs.sorted("id")]

    def _routing_jobs(self, env, event_ids):
        jobs = env["queue.job"].search(
            [("model_name", "=", "logistics.sync.event"), ("method_name", "=", "route")]
        )
        return jobs.filtered(lambda job: set(self._job_events(env, job)) & set(event_ids))

    def _set_state(self, event_id, state):
        with self._cursor() as env:
            self._routing_jobs(env, [event_id]).write({"state": state})

    def test_next_transaction_joins_the_waiting_job_which_routes_both(self):
        first, second = self._emit_and_commit(0), self._emit_and_commit(1)
        with self._cursor() as env:
            job = self._routing_jobs(env, [first, second])
            self.assertEqual(len(job), 1, "the second transaction made no job of its own")
            self.assertEqual(job.records.ids, [first], "its row names the first event only")
            self.assertEqual(self._job_events(env, job), [first, second])
            Job.load(env, job.uuid).perform()
            events = env["logistics.sync.event"].browse([first, second])
            self.assertEqual(events.mapped("state"), ["routed", "routed"])
            self.assertEqual(self._job_events(env, job), [first], "the join rows went")

    def test_while_the_runner_routes_a_new_job_waits_and_the_next_transactions_join_it(self):
        first = self._emit_and_commit(0)
        with self._cursor() as env:
            self.assertFalse(self._routing_jobs(env, [first]).eta, "quiet: it starts at once")
        self._set_state(first, "started")
        second, third = self._emit_and_commit(1), self._emit_and_commit(2)
        with self._cursor() as env:
            jobs = self._routing_jobs(env, [first, second, third]).sorted("id")
            self.assertEqual(self._events_by_job(env, jobs), [[first], [second, third]])
            waited = (jobs[1].eta - jobs[1].date_created).total_seconds()
            self.assertAlmostEqual(waited, ROUTE_GATHER, delta=0.5)

    def test_transactions_begun_together_join_the_same_waiting_job(self):
        """A burst: a transaction whose snapshot predates another one's join still joins
        the job (only the runner taking the job turns it away)."""
        first = self._emit_and_commit(0)
        with self._cursor() as env:
            env.cr.execute("SELECT 1")  # the snapshot is taken
            second = self._emit_and_commit(1)  # joins and commits meanwhile
            third = self._emit_in(env, 2)
            env.cr.commit()
        with self._cursor() as env:
            jobs = self._routing_jobs(env, [first, second, third])
            self.assertEqual(len(jobs), 1)
            self.assertEqual(self._job_events(env, jobs), [first, second, third])

    def _emit_and_flush(self, env, index):
        """Emit about partner ``index`` and run the precommit hooks (the join), without
        committing."""
        event_id = self._emit_in(env, index)
        env.cr.flush()
        return event_id

    def _runner_takes(self, job):
        """Whether the runner's write that takes ``job`` goes through at once."""
        with self._cursor() as runner:
            runner.cr.execute("SET LOCAL lock_timeout = '200ms'")
            try:
                with mute_logger("odoo.sql_db"):
                    runner.cr.execute(
                        "UPDATE queue_job SET date_enqueued = date_enqueued WHERE id = %s",
                        [job.id],
                    )
            except psycopg2.errors.LockNotAvailable:
                return False
            finally:
                runner.cr.rollback()
            return True

    def test_the_runner_waits_for_a_joining_transaction_to_commit(self):
        first = self._emit_and_commit(0)
        with self._cursor() as env:
            second = self._emit_and_flush(env, 1)
            job = self._routing_jobs(env, [first])
            self.assertEqual(self._job_events(env, job), [first, second], "joined")
            self.assertFalse(self._runner_takes(job), "it would miss the joined event")
            env.cr.commit()
        self.assertTrue(self._runner_takes(job))

    def test_a_job_turned_down_is_not_kept_locked(self):
        first = self._emit_and_commit(0)
        with patch.object(event_module, "ROUTE_BATCH", 1), self._cursor() as env:
            second = self._emit_and_flush(env, 1)
            job = self._routing_jobs(env, [first])
            self.assertEqual(self._job_events(env, job), [first], "full: not joined")
            self.assertTrue(self._runner_takes(job), "the runner may take it meanwhile")
            env.cr.commit()
        with self._cursor() as env:
            jobs = self._routing_jobs(env, [first, second])
            self.assertEqual(self._events_by_job(env, jobs), [[first], [second]])

    def test_a_full_job_is_not_joined(self):
        with patch.object(event_module, "ROUTE_BATCH", 2):
            first, second, third = (self._emit_and_commit(i) for i in range(3))
        with self._cursor() as env:
            jobs = self._routing_jobs(env, [first, second, third]).sorted("id")
            self.assertEqual(self._events_by_job(env, jobs), [[first, second], [third]])

    def test_the_minute_cron_leaves_events_that_joined_a_waiting_job(self):
        first, second = self._emit_and_commit(0), self._emit_and_commit(1)
        with self._cursor() as env:
            events = env["logistics.sync.event"].browse([first, second])
            env.cr.execute(
                "UPDATE logistics_sync_event SET create_date = create_date - interval '5 minutes'"
                " WHERE id = ANY(%s)",
                [events.ids],
            )
            env["logistics.sync.event"]._cron_route_left()
            events.invalidate_recordset()
            self.assertEqual(events.mapped("state"), ["new", "new"], "their job will route them")

    def _routed(self, jobs, seconds_ago):
        """``jobs`` routing jobs, each of a transaction of its own, done ``seconds_ago``."""
        for _i in range(jobs):
            event_id = self._emit_and_commit(0)
            with self._cursor() as env:
                job = self._routing_jobs(env, [event_id])
                self.assertEqual(len(job), 1)
                job.write(
                    {
                        "state": "done",
                        "date_done": fields.Datetime.now() - timedelta(seconds=seconds_ago),
                    }
                )

    def test_while_routing_jobs_finish_several_a_second_a_new_job_waits(self):
        """Transactions committing together cannot see each other's jobs, and the runner
        had routed them before the next ones came: ROUTE_GATHER_JOBS jobs done in the
        last ROUTE_GATHER seconds make a burst, and the next job waits for the
        transactions after it."""
        self._routed(ROUTE_GATHER_JOBS, seconds_ago=0)
        second, third = self._emit_and_commit(1), self._emit_and_commit(2)
        with self._cursor() as env:
            job = self._routing_jobs(env, [second, third])
            self.assertEqual(self._job_events(env, job), [second, third])
            waited = (job.eta - job.date_created).total_seconds()
            self.assertAlmostEqual(waited, ROUTE_GATHER, delta=0.5)

    def test_a_steady_trickle_is_routed_at_once(self):
        self._routed(ROUTE_GATHER_JOBS - 1, seconds_ago=0)
        second = self._emit_and_commit(1)
        with self._cursor() as env:
            self.assertFalse(self._routing_jobs(env, [second]).eta)

    def test_after_a_quiet_moment_a_new_job_starts_at_once(self):
        self._routed(ROUTE_GATHER_JOBS, seconds_ago=ROUTE_GATHER + 1)
        second = self._emit_and_commit(1)
        with self._cursor() as env:
            self.assertFalse(self._routing_jobs(env, [second]).eta)

    def test_a_job_postponed_by_a_retry_is_not_joined(self):
        first = self._emit_and_commit(0)
        with self._cursor() as env:
            self._routing_jobs(env, [first]).write({"retry": 1})
        second = self._emit_and_commit(1)
        with self._cursor() as env:
            jobs = self._routing_jobs(env, [first, second])
            self.assertEqual(self._events_by_job(env, jobs), [[first], [second]])

    def test_a_job_the_runner_took_is_not_joined(self):
        first = self._emit_and_commit(0)
        self._set_state(first, "enqueued")
        second = self._emit_and_commit(1)
        with self._cursor() as env:
            jobs = self._routing_jobs(env, [first, second])
            self.assertEqual(self._events_by_job(env, jobs), [[first], [second]])

    def test_a_job_taken_after_the_transaction_began_is_not_joined(self):
        """The runner enqueues the job after this transaction's snapshot: the lock fails
        with a serialization error, the events get their own job, the business
        transaction commits."""
        first = self._emit_and_commit(0)
        with self._cursor() as env:
            env.cr.execute("SELECT 1")  # the snapshot is taken
            self._set_state(first, "enqueued")
            second = self._emit_in(env, 1)
            env.cr.commit()
        with self._cursor() as env:
            jobs = self._routing_jobs(env, [first, second])
            self.assertEqual(self._events_by_job(env, jobs), [[first], [second]])

    def test_a_job_locked_by_another_transaction_is_not_waited_for(self):
        first = self._emit_and_commit(0)
        with self._cursor() as holder:
            holder.cr.execute(
                "SELECT id FROM queue_job WHERE id = ANY(%s) FOR UPDATE",
                (self._routing_jobs(holder, [first]).ids,),
            )
            second = self._emit_and_commit(1)
            holder.cr.rollback()
        with self._cursor() as env:
            jobs = self._routing_jobs(env, [first, second])
            self.assertEqual(self._events_by_job(env, jobs), [[first], [second]])
