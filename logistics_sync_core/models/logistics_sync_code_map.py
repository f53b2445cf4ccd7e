from odoo import _, api, fields, models

from ..exceptions import UnknownCodeError

CODE_DOMAINS = [
    ("status", "Status"),
    ("carrier_service", "Carrier service"),
    ("uom", "Unit of measure"),
    ("location", "Location"),
    ("sku", "Product (SKU)"),
    ("lot", "Lot / serial number"),
]


class LogisticsSyncCodeMap(models.Model):
    """Translation of one external code to its canonical value, per system and domain."""

    _name = "logistics.sync.code.map"
    _description = "Logistics Sync Code Map"
    _order = "system_id, domain, external_code"
    _rec_name = "external_code"

    system_id = fields.Many2one("logistics.sync.system", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    domain = fields.Selection(CODE_DOMAINS, required=True)
    external_code = fields.Char(required=True, help="The code exactly as the system sends it.")
    canonical_value = fields.Char(
        required=True,
        help="The suite's canonical value, e.g. a canonical status ('delivered'), a carrier "
        "service code, a unit of measure name, a location barcode, a product's internal "
        "reference (SKU) or a lot / serial number.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "code_unique",
            "UNIQUE(system_id, domain, external_code)",
            "This external code is already mapped for this system and domain.",
        )
    ]

    @api.model
    def _to_canonical(self, system, domain, external_code):
        """Return the canonical value of ``external_code``.

        An unknown code is never guessed: it is recorded in the quarantine (in the current
        transaction) and :class:`UnknownCodeError` is raised. A caller that must keep the
        quarantine record while abandoning its own change catches the error and does not
        roll back.
        """
        row = self.search_read(
            [
                ("system_id", "=", system.id),
                ("domain", "=", domain),
                ("external_code", "=", external_code),
            ],
            ["canonical_value"],
            limit=1,
        )
        if row:
            return row[0]["canonical_value"]
        self.env["logistics.sync.code.quarantine"]._record(system, domain, external_code)
        raise UnknownCodeError(
            _(
                "Unknown %(domain)s code '%(code)s' from %(system)s: it was quarantined. Map it "
                "under Logistics Sync > Configuration > Code Maps, then replay.",
                domain=dict(CODE_DOMAINS)[domain],
                code=external_code,
                system=system.name,
            )
        )

    @api.model
    def _to_external(self, system, domain, canonical_value):
        """Return the code ``system`` uses for ``canonical_value`` (``False`` if none)."""
        row = self.search_read(
            [
                ("system_id", "=", system.id),
                ("domain", "=", domain),
                ("canonical_value", "=", canonical_value),
            ],
            ["external_code"],
            limit=1,
        )
        return row[0]["external_code"] if row else False
