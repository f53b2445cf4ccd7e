from odoo import api, fields, models
from odoo.exceptions import UserError

from .logistics_sync_code_map import CODE_DOMAINS


class LogisticsSyncCodeQuarantine(models.Model):
    """An external code seen without a mapping, kept for a person to map or dismiss."""

    _name = "logistics.sync.code.quarantine"
    _description = "Logistics Sync Quarantined Code"
    _order = "last_seen desc"
    _rec_name = "external_code"

    system_id = fields.Many2one("logistics.sync.system", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    domain = fields.Selection(CODE_DOMAINS, required=True)
    external_code = fields.Char(required=True, readonly=True)
    occurrences = fields.Integer(readonly=True, default=1)
    first_seen = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_seen = fields.Datetime(readonly=True, default=fields.Datetime.now)
    state = fields.Selection(
        [("new", "To map"), ("mapped", "Mapped"), ("dismissed", "Dismissed")],
        default="new",
        required=True,
    )
    canonical_value = fields.Char(help="Fill in, then press Map to create the code map.")

    _sql_constraints = [
        (
            "code_unique",
            "UNIQUE(system_id, domain, external_code)",
            "This code is already quarantined.",
        )
    ]

    @api.model
    def _record(self, system, domain, external_code):
        self.env.cr.execute(
            """
            INSERT INTO logistics_sync_code_quarantine AS q
                (system_id, company_id, domain, external_code, occurrences, first_seen,
                 last_seen, state, create_uid, create_date, write_uid, write_date)
            VALUES (%(system)s, %(company)s, %(domain)s, %(code)s, 1, now() at time zone 'UTC',
                    now() at time zone 'UTC', 'new', %(uid)s, now() at time zone 'UTC',
                    %(uid)s, now() at time zone 'UTC')
            ON CONFLICT (system_id, domain, external_code) DO UPDATE
               SET occurrences = q.occurrences + 1, last_seen = EXCLUDED.last_seen,
                   state = CASE WHEN q.state = 'mapped' THEN 'new' ELSE q.state END
            """,
            {
                "system": system.id,
                "company": system.company_id.id or None,
                "domain": domain,
                "code": external_code,
                "uid": self.env.uid,
            },
        )
        self.invalidate_model()

    def action_map(self):
        """Create the code map from the canonical value typed on each quarantined code."""
        for entry in self:
            if not entry.canonical_value:
                raise UserError(
                    self.env._("Type the canonical value of '%s' first.", entry.external_code)
                )
            self.env["logistics.sync.code.map"].create(
                {
                    "system_id": entry.system_id.id,
                    "domain": entry.domain,
                    "external_code": entry.external_code,
                    "canonical_value": entry.canonical_value,
                }
            )
        self.write({"state": "mapped"})

    def action_dismiss(self):
        self.write({"state": "dismissed"})
