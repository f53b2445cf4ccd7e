from odoo import _, models


class LogisticsSyncInventoryReconciliation(models.Model):
    """A reconciliation with differences beyond tolerance feeds the desk: one exception per
    reconciliation while such lines wait for a manager's decision (figures updated as lines
    are decided, without counting occurrences); resolved once none is left undecided."""

    _name = "logistics.sync.inventory.reconciliation"
    _inherit = ["logistics.sync.inventory.reconciliation", "logistics.sync.exception.source"]

    def _exception_kind(self):
        return "reconciliation"

    def _review_pending(self):
        return (
            self.env["logistics.sync.inventory.reconciliation.line"]
            .sudo()
            .search_count(
                [
                    ("reconciliation_id", "=", self.id),
                    ("status", "=", "review"),
                    ("state", "=", "pending"),
                ]
            )
        )

    def _exception_needed(self):
        if self.state == "building":
            return None
        return self.state in ("review", "applying") and bool(self._review_pending())

    def _exception_values(self):
        return {
            "name": _(
                "%(name)s: %(count)s inventory difference(s) beyond tolerance from %(system)s",
                name=self.name,
                count=self._review_pending(),
                system=self.system_id.name,
            ),
            "detail": _(
                "%(count)s line(s) beyond the tolerance of their category wait for a "
                "decision; differences valued at %(value)s %(currency)s in all (WMS minus "
                "Odoo, at cost).",
                count=self._review_pending(),
                value=round(self.difference_value, 2),
                currency=self.currency_id.name or "",
            ),
            "system_id": self.system_id.id,
            **self._exception_links(self, severity="medium"),
        }

    def _exception_resolution_note(self):
        return _("Every difference beyond tolerance is decided.")

    def _exception_sync(self, count=True, changed=None):
        # each decision rewrites the counts: the same differences, not a new occurrence
        return super()._exception_sync(count=False, changed=changed)
