from odoo import api, fields, models


class LogisticsSyncSystem(models.Model):
    """An external participant: a WMS, TMS, carrier, 3PL, marketplace, finance or ERP system."""

    _name = "logistics.sync.system"
    _description = "Logistics Sync External System"
    _inherit = ["mail.thread"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Short technical identifier, used in URLs and as the origin of events "
        "(lowercase letters, digits, '_' and '-').",
    )
    kind = fields.Selection(
        [
            ("wms", "Warehouse (WMS)"),
            ("tms", "Transport (TMS)"),
            ("carrier", "Carrier"),
            ("3pl", "Third-party logistics (3PL)"),
            ("marketplace", "Marketplace"),
            ("finance", "Finance"),
            ("erp", "ERP"),
        ],
        required=True,
        tracking=True,
    )
    state = fields.Selection(
        [("active", "Active"), ("paused", "Paused"), ("tripped", "Tripped")],
        default="active",
        required=True,
        tracking=True,
        help="Paused: nothing is sent to or accepted from this system. Tripped: the circuit "
        "breaker stopped traffic after repeated failures.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, index=True)
    secret_ids = fields.One2many(
        "logistics.sync.secret",
        "system_id",
        string="Credentials",
        groups="logistics_sync_core.group_logistics_sync_manager",
    )
    flow_ids = fields.One2many("logistics.sync.flow", "system_id")
    note = fields.Html()

    _sql_constraints = [
        ("code_unique", "UNIQUE(code)", "The system code must be unique."),
        (
            "code_format",
            "CHECK(code ~ '^[a-z0-9][a-z0-9_-]*$')",
            "The system code may only hold lowercase letters, digits, '_' and '-'.",
        ),
    ]

    @api.model
    def _by_code(self, code):
        """Return the system with ``code`` (empty recordset if none)."""
        return self.search([("code", "=", code)], limit=1)

    def action_pause(self):
        self.write({"state": "paused"})

    def action_resume(self):
        self.write({"state": "active"})

    def _secret(self, name):
        """Plaintext of this system's credential ``name`` (``False`` if none); server side."""
        self.ensure_one()
        secret = (
            self.env["logistics.sync.secret"]
            .sudo()
            .search([("system_id", "=", self.id), ("name", "=", name)], limit=1)
        )
        return secret._get_plaintext() if secret else False
