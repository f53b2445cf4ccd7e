from odoo import fields, models


class LogisticsSyncSagaStep(models.Model):
    """Durable log of one action or compensation of a saga run."""

    _name = "logistics.sync.saga.step"
    _description = "Logistics Sync Saga Step"
    _order = "saga_id, id"

    saga_id = fields.Many2one("logistics.sync.saga", required=True, ondelete="cascade", index=True)
    name = fields.Char(required=True)
    sequence = fields.Integer()
    kind = fields.Selection([("action", "Action"), ("compensation", "Compensation")], required=True)
    state = fields.Selection(
        [
            ("running", "Running"),
            ("waiting", "Waiting to retry"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
        default="running",
        required=True,
        help="Waiting to retry: the last attempt met a transient failure (see the error); "
        "the step runs again later, up to its largest number of attempts.",
    )
    attempts = fields.Integer()
    started_at = fields.Datetime()
    ended_at = fields.Datetime()
    error = fields.Text()

    _sql_constraints = [
        ("step_unique", "UNIQUE(saga_id, name, kind)", "A step is logged once per run."),
    ]
