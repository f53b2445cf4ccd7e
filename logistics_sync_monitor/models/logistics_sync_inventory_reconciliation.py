from odoo import _, models


class LogisticsSyncInventoryReconciliation(models.Model):
    """A reconciliation with differences beyond tolerance feeds the desk while such lines
    wait for a manager's decision (figures updated as lines are decided, without counting
    occurrences); resolved once none is left undecided.

    The problem is *the differences*, not the snapshot: the exception's key is the WMS, the
    warehouse and a fingerprint of the lines beyond tolerance (product, location, lot and
    difference). A new snapshot showing the same differences updates that exception (one
    more occurrence, last seen now, the newest reconciliation as its record) instead of
    opening another; deciding that newest reconciliation's lines resolves it (decisions on
    an older one showing the same differences leave it open).
    """

    _name = "logistics.sync.inventory.reconciliation"
    _inherit = ["logistics.sync.inventory.reconciliation", "logistics.sync.exception.source"]

    def _exception_kind(self):
        return "reconciliation"

    def _differences_fingerprint(self):
        """A hash of this reconciliation's lines beyond tolerance: equal for two snapshots
        that show the same differences (``None`` when there are none)."""
        self.ensure_one()
        self.env["logistics.sync.inventory.reconciliation.line"].flush_model()
        self.env.cr.execute(
            """
            SELECT md5(string_agg(
                       concat_ws(':', product_id, location_id, COALESCE(lot_id, 0),
                                 round(difference::numeric, 6)),
                       ',' ORDER BY product_id, location_id, COALESCE(lot_id, 0)))
              FROM logistics_sync_inventory_reconciliation_line
             WHERE reconciliation_id = %s AND status = 'review'
            """,
            (self.id,),
        )
        return self.env.cr.fetchone()[0]

    def _exception_key(self):
        self.ensure_one()
        return (
            f"reconciliation:{self.system_id.id}:{self.warehouse_id.id or 0}:"
            f"{self._differences_fingerprint() or 'none'}"
        )

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

    def _waits(self):
        return self.state in ("review", "applying") and bool(self._review_pending())

    def _exception_needed(self):
        if self.state == "building":
            return None
        if self._waits():
            return True
        # decided here; the same differences shown by a newer snapshot are that one's
        if self._known_elsewhere(self._exception_key()):
            return None
        return False

    def _known_elsewhere(self, key):
        """The exception ``key`` when it points at another reconciliation (else empty)."""
        known = self.env["logistics.sync.exception"].sudo().search([("dedup_key", "=", key)])
        if (known.source_model, known.source_id) == (self._name, self.id):
            return known.browse()
        return known

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
                "Odoo, at cost). Latest snapshot showing them: %(snapshot)s, taken on "
                "%(taken)s UTC.",
                count=self._review_pending(),
                value=round(self.difference_value, 2),
                currency=self.currency_id.name or "",
                snapshot=self.snapshot_id.display_name,
                taken=self.taken_at or "?",
            ),
            "system_id": self.system_id.id,
            **self._exception_links(self, severity="medium"),
        }

    def _exception_resolution_note(self):
        return _("Every difference beyond tolerance is decided.")

    def _exception_sync(self, count=True, changed=None):
        # each decision rewrites the figures: not a new occurrence; the same differences
        # shown by another (newer) snapshot are one more, and it becomes the record
        for reconciliation in self:
            if reconciliation.state == "building":
                continue
            again = reconciliation._waits() and reconciliation._known_elsewhere(
                reconciliation._exception_key()
            )
            super(LogisticsSyncInventoryReconciliation, reconciliation)._exception_sync(
                count=bool(again), changed=changed
            )
            if again:
                links = reconciliation._exception_links(reconciliation)
                again.write(
                    {
                        field: links[field]
                        for field in (
                            "res_model",
                            "res_id",
                            "res_name",
                            "source_model",
                            "source_id",
                            "source_name",
                        )
                    }
                )
        return None
