from odoo import _, models


class LogisticsSyncSaga(models.Model):
    """Failed and compensated saga runs feed the desk, except a carrier shipment's runs:
    the shipment's own exceptions (booking failed, cancellation refused) say it better."""

    _name = "logistics.sync.saga"
    _inherit = ["logistics.sync.saga", "logistics.sync.exception.source"]

    def _exception_kind(self):
        return "saga_failed"

    def _exception_needed(self):
        if self.res_model == "logistics.sync.shipment":
            return None
        if self.state in ("failed", "compensated"):
            return True
        return False if self.state == "done" else None

    def _exception_values(self):
        record = self._exception_record(self.res_model, self.res_id)
        failed = self.state == "failed"
        return {
            "name": _(
                "%(saga)s: %(state)s",
                saga=self.name,
                state=_("compensation failed") if failed else _("compensated"),
            ),
            "detail": self.error or False,
            **self._exception_links(record, severity="critical" if failed else "medium"),
        }
