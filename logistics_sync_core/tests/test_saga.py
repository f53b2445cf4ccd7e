from unittest import mock

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..saga import Step, StepRetry, Workflow
from .common import LogisticsSyncCase

WORKFLOW = Workflow(
    code="test_booking",
    name="Test booking",
    steps=[
        Step("reserve", "_test_action_reserve", "_test_undo_reserve"),
        Step("notify", "_test_action_notify"),  # no compensation needed
        Step("book", "_test_action_book", "_test_undo_book"),
        Step("invoice", "_test_action_invoice", "_test_undo_invoice"),
    ],
    on_done="_test_on_done",
    on_compensated="_test_on_compensated",
    on_failed="_test_on_failed",
)


@tagged("post_install", "-at_install")
class TestSaga(LogisticsSyncCase):
    def setUp(self):
        super().setUp()
        self.calls = []
        self.ended = []  # the end hooks called, in order
        self.failing = set()
        self.transient = {}  # label: how many more times it meets a transient failure
        Saga = type(self.env["logistics.sync.saga"])
        patches = {"_get_workflows": lambda model: {WORKFLOW.code: WORKFLOW}}
        for name in ("reserve", "notify", "book", "invoice"):
            patches[f"_test_action_{name}"] = self._step(f"do {name}")
            patches[f"_test_undo_{name}"] = self._step(f"undo {name}")
        for state in ("done", "compensated", "failed"):
            patches[f"_test_on_{state}"] = self._hook(state)
        for attribute, function in patches.items():
            patcher = mock.patch.object(Saga, attribute, function, create=True)
            patcher.start()
            self.addCleanup(patcher.stop)

    def _step(self, label):
        def step(saga):
            self.calls.append(label)
            # a write inside the step, to prove a failing step leaves nothing behind
            saga.partner_probe().write({"ref": label})
            if label in self.failing:
                raise ValueError(f"{label} refused by the partner")
            if self.transient.get(label):
                self.transient[label] -= 1
                raise StepRetry(f"{label}: partner unavailable")
            return {label.replace(" ", "_"): True}

        return step

    def _hook(self, state):
        def hook(saga):
            self.assertEqual(saga.state, state, "the hook runs once the run is in its state")
            self.ended.append(state)

        return hook

    def _run(self, saga, max_steps=20):
        """Run the saga job by job, as the runner would, checking each enqueued job."""
        for _index in range(max_steps):
            with trap_jobs() as trap:
                saga.run_next_step()
            if saga.state not in ("running", "compensating"):
                trap.assert_jobs_count(0)
                return
            trap.assert_enqueued_job(
                saga.run_next_step, properties={"channel": "root.logistics_sync.saga"}
            )
        self.fail("saga did not finish")

    def _start(self):
        Saga = type(self.env["logistics.sync.saga"])
        partner = self.partner
        patcher = mock.patch.object(Saga, "partner_probe", lambda saga: partner, create=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        with trap_jobs() as trap:
            saga = self.env["logistics.sync.saga"].start("test_booking", self.partner, {"ref": "X"})
        trap.assert_enqueued_job(saga.run_next_step)
        return saga

    def test_happy_path_runs_steps_in_order_with_a_durable_log(self):
        saga = self._start()
        self._run(saga)
        self.assertEqual(saga.state, "done")
        self.assertEqual(self.calls, ["do reserve", "do notify", "do book", "do invoice"])
        self.assertEqual(saga.step_ids.mapped("name"), ["reserve", "notify", "book", "invoice"])
        self.assertEqual(set(saga.step_ids.mapped("state")), {"done"})
        self.assertTrue(saga.context["do_book"])
        self.assertEqual(saga.context["ref"], "X")
        self.assertEqual(self.ended, ["done"])

    def test_failing_step_compensates_completed_steps_in_reverse_order(self):
        self.failing.add("do invoice")
        saga = self._start()
        self._run(saga)
        self.assertEqual(saga.state, "compensated")
        self.assertEqual(
            self.calls,
            ["do reserve", "do notify", "do book", "do invoice", "undo book", "undo reserve"],
        )
        failed = saga.step_ids.filtered(lambda s: s.name == "invoice")
        self.assertEqual(failed.state, "failed")
        self.assertIn("do invoice refused by the partner", failed.error)
        self.assertEqual(
            self.partner.ref, "undo reserve", "the failed step's write was rolled back"
        )
        self.assertEqual(self.ended, ["compensated"])

    def test_steps_are_idempotent_finished_ones_never_rerun(self):
        saga = self._start()
        self._run(saga)
        self.calls.clear()
        saga.state = "running"  # as if a duplicate job came in late
        saga.run_next_step()
        self.assertEqual(self.calls, [])
        self.assertEqual(saga.state, "done")
        self.assertEqual(self.ended, ["done", "done"], "each end of a run calls its hook")

    def test_failed_compensation_is_visible_and_retryable(self):
        self.failing.update({"do book", "undo reserve"})
        saga = self._start()
        self._run(saga)
        self.assertEqual(saga.state, "failed")
        self.assertIn("undo reserve", saga.error)
        self.assertEqual(self.ended, ["failed"])
        self.failing.clear()
        self.calls.clear()
        with trap_jobs() as trap:
            saga.with_user(self.user).action_retry()
        trap.assert_jobs_count(1)
        self._run(saga)
        self.assertEqual(saga.state, "compensated")
        self.assertEqual(self.calls, ["undo reserve"], "only what had not succeeded runs again")
        self.assertEqual(self.ended, ["failed", "compensated"])
        undo = saga.step_ids.filtered(lambda s: s.kind == "compensation")
        self.assertEqual(undo.attempts, 2)

    def test_transient_failure_retries_the_step_later_without_compensating(self):
        self.transient["do book"] = 2
        saga = self._start()
        for _step in ("reserve", "notify"):
            saga.run_next_step()
        with trap_jobs() as trap:
            saga.run_next_step()
        book = saga.step_ids.filtered(lambda s: s.name == "book")
        self.assertEqual((book.state, book.attempts), ("waiting", 1))
        self.assertEqual(book.error, "do book: partner unavailable")
        self.assertEqual(saga.state, "running")
        self.assertEqual(self.partner.ref, "do notify", "the waiting step's write was rolled back")
        trap.assert_jobs_count(1)
        job = trap.enqueued_jobs[0]
        self.assertEqual(job.channel, "root.logistics_sync.saga")
        self.assertTrue(job.eta, "the retry is scheduled later, not at once")
        self._run(saga)
        self.assertEqual(saga.state, "done")
        self.assertEqual((book.state, book.attempts, book.error), ("done", 3, False))
        self.assertEqual(self.calls.count("do book"), 3)
        self.assertEqual(self.ended, ["done"])

    def test_transient_failure_gives_up_after_max_attempts_and_compensates(self):
        self.transient["do book"] = 99
        saga = self._start()
        self._run(saga)
        self.assertEqual(saga.state, "compensated")
        book = saga.step_ids.filtered(lambda s: s.name == "book" and s.kind == "action")
        self.assertEqual((book.state, book.attempts), ("failed", 5))
        self.assertIn("gave up after 5 attempts", book.error)
        self.assertEqual(
            self.calls, ["do reserve", "do notify"] + ["do book"] * 5 + ["undo reserve"]
        )
        self.assertEqual(self.ended, ["compensated"])

    def test_unknown_workflow_is_refused(self):
        with self.assertRaisesRegex(UserError, "No workflow 'nope' is installed"):
            self.env["logistics.sync.saga"].start("nope")
