from odoo import _, api, models


class LogisticsSyncCodeQuarantine(models.Model):
    """Unknown codes feed the desk, one exception per quarantined code."""

    _name = "logistics.sync.code.quarantine"
    _inherit = ["logistics.sync.code.quarantine", "logistics.sync.exception.source"]

    @api.model
    def _record(self, system, domain, external_code):
        result = super()._record(system, domain, external_code)
        # recorded in SQL, behind the ORM: sync the row it wrote or counted
        self.search(
            [
                ("system_id", "=", system.id),
                ("domain", "=", domain),
                ("external_code", "=", external_code),
            ]
        )._exception_sync()
        return result

    def _exception_kind(self):
        return "unknown_code"

    def _exception_needed(self):
        return self.state == "new"

    def _exception_values(self):
        return {
            "name": _(
                "Unknown %(domain)s code '%(code)s' from %(system)s",
                domain=dict(self._fields["domain"].selection).get(self.domain, self.domain),
                code=self.external_code,
                system=self.system_id.name,
            ),
            "system_id": self.system_id.id,
            "detail": _(
                "Seen %s time(s); messages using it fail until it is mapped.", self.occurrences
            ),
            **self._exception_links(None, severity="high"),
        }

    def _exception_resolution_note(self):
        return _("The code was mapped or dismissed.")

    def _exception_map(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
