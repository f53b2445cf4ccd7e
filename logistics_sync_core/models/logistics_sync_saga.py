import logging
import traceback

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError

from ..saga import StepRetry

_logger = logging.getLogger(__name__)

CHANNEL = "root.logistics_sync.saga"


class LogisticsSyncSaga(models.Model):
    """One run of an orchestrated workflow across systems.

    Steps run one per queue_job job, in order, each logged durably in
    ``logistics.sync.saga.step``. When a step fails, the compensations of the completed steps
    run in reverse order. A failed run can be retried from the UI: it resumes where it
    stopped, finished steps are not run again.
    """

    _name = "logistics.sync.saga"
    _description = "Logistics Sync Saga"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True)
    workflow = fields.Char(required=True, readonly=True, index=True)
    company_id = fields.Many2one(
        "res.company", default=lambda self: self.env.company, readonly=True
    )
    res_model = fields.Char(string="Model", readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", readonly=True)
    context = fields.Json(readonly=True, default=dict)
    state = fields.Selection(
        [
            ("running", "Running"),
            ("done", "Done"),
            ("compensating", "Compensating"),
            ("compensated", "Compensated"),
            ("failed", "Failed"),
        ],
        default="running",
        required=True,
        readonly=True,
        tracking=True,
        help="Failed: a compensation itself failed; a person must look, then retry.",
    )
    step_ids = fields.One2many("logistics.sync.saga.step", "saga_id", readonly=True)
    error = fields.Text(readonly=True)

    @api.model
    def _get_workflows(self):
        """Return ``{code: saga.Workflow}``; addons extend it with ``super()``."""
        return {}

    def _workflow(self):
        self.ensure_one()
        workflow = self._get_workflows().get(self.workflow)
        if not workflow:
            raise UserError(_("No workflow '%s' is installed.", self.workflow))
        return workflow

    @api.model
    def start(self, workflow_code, record=None, context=None):
        """Create a run of ``workflow_code`` about ``record`` and enqueue its first step."""
        workflow = self._get_workflows().get(workflow_code)
        if not workflow:
            raise UserError(_("No workflow '%s' is installed.", workflow_code))
        saga = self.create(
            {
                "name": f"{workflow.name}: {record.display_name}" if record else workflow.name,
                "workflow": workflow_code,
                "res_model": record._name if record else False,
                "res_id": record.id if record else False,
                "context": context or {},
            }
        )
        saga._enqueue()
        return saga

    def _enqueue(self, eta=None):
        for saga in self:
            saga.with_delay(
                channel=saga._job_channel(), eta=eta, description=f"Saga step: {saga.name}"
            ).run_next_step()

    def _job_channel(self):
        """The queue_job channel of this run's steps; a workflow that talks to one partner
        may give it a sub-channel of its own, so a slow partner holds only its own jobs."""
        return CHANNEL

    def _log(self, step_name, kind):
        self.ensure_one()
        return self.step_ids.filtered(lambda s: s.name == step_name and s.kind == kind)

    def _next_action(self):
        for step in self._workflow().steps:
            if self._log(step.name, "action").state != "done":
                return step
        return None

    def _next_compensation(self):
        done = [
            step
            for step in self._workflow().steps
            if self._log(step.name, "action").state == "done"
        ]
        for step in reversed(done):
            if step.compensation and self._log(step.name, "compensation").state != "done":
                return step
        return None

    def run_next_step(self):
        """Job entry point: run the next step (or compensation) and enqueue the one after."""
        return self._run_next_step()

    def _run_next_step(self):
        self.ensure_one()
        if self.state == "running":
            step, kind = self._next_action(), "action"
            if step is None:
                return self._end("done")
        elif self.state == "compensating":
            step, kind = self._next_compensation(), "compensation"
            if step is None:
                return self._end("compensated")
        else:
            return self.state
        outcome = self._execute(step, kind)
        if outcome is False:
            if kind == "compensation":
                return self._end("failed")
            self.state = "compensating"
        # a number: the step met a transient failure and runs again in that many seconds
        self._enqueue(eta=None if isinstance(outcome, bool) else outcome)
        return self.state

    def _end(self, state):
        """Close the run in ``state`` and call the workflow's hook for it, if any."""
        self.state = state
        hook = getattr(self._workflow(), f"on_{state}")
        if hook:
            getattr(self, hook)()
        return state

    def _execute(self, step, kind):
        """Run one action or compensation in a savepoint and log it. Return True (done),
        False (failed) or the seconds to wait before trying it again (:class:`StepRetry`)."""
        log = self._log(step.name, kind)
        if log.state == "done":
            return True
        if not log:
            log = self.env["logistics.sync.saga.step"].create(
                {
                    "saga_id": self.id,
                    "name": step.name,
                    "kind": kind,
                    "sequence": self._workflow().steps.index(step),
                }
            )
        log.write(
            {"state": "running", "attempts": log.attempts + 1, "started_at": fields.Datetime.now()}
        )
        method = getattr(self, step.action if kind == "action" else step.compensation)
        try:
            with self.env.cr.savepoint():
                result = method()
        except RetryableJobError:
            raise
        except StepRetry as retry:
            self.env.invalidate_all()
            if log.attempts < step.max_attempts:
                _logger.info("Saga %s: %s %s retried: %s", self.id, kind, step.name, retry)
                log.write({"state": "waiting", "error": retry.reason})
                return retry.seconds or self._workflow().retry_delay(log.attempts)
            reason = _(
                "%(reason)s (gave up after %(count)s attempts)",
                reason=retry.reason,
                count=log.attempts,
            )
            return self._fail_step(step, kind, log, reason)
        except Exception as exc:  # noqa: BLE001 - any failure of a step is a business outcome
            self.env.invalidate_all()
            error = "".join(traceback.format_exception_only(exc)).strip()
            return self._fail_step(step, kind, log, error, str(exc))
        if isinstance(result, dict):
            self.context = {**(self.context or {}), **result}
        log.write({"state": "done", "ended_at": fields.Datetime.now(), "error": False})
        return True

    def _fail_step(self, step, kind, log, error, reason=None):
        _logger.info("Saga %s: %s %s failed: %s", self.id, kind, step.name, reason or error)
        log.write({"state": "failed", "ended_at": fields.Datetime.now(), "error": error})
        self.error = f"{kind} '{step.name}': {reason or error}"
        return False

    def action_retry(self):
        """Resume a failed run: a failed compensation is tried again, finished steps are not."""
        for saga in self.filtered(lambda s: s.state == "failed"):
            saga.write({"state": "compensating", "error": False})
            saga._enqueue()
