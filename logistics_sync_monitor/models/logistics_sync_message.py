from odoo import _, models
from odoo.exceptions import AccessError


class LogisticsSyncMessage(models.Model):
    """Dead letters feed the desk: one exception per destination flow and aggregate (the
    order or transfer that did not reach the system), counting each message that died."""

    _name = "logistics.sync.message"
    _inherit = ["logistics.sync.message", "logistics.sync.exception.source"]

    def _exception_kind(self):
        return "dead_letter"

    def _exception_key(self):
        self.ensure_one()
        return f"dead_letter:{self.flow_id.id}:{self.aggregate_canonical_id}"

    def _dead_siblings(self):
        self.ensure_one()
        return self.search(
            [
                ("flow_id", "=", self.flow_id.id),
                ("aggregate_canonical_id", "=", self.aggregate_canonical_id),
                ("state", "=", "dead"),
            ]
        )

    def _exception_needed(self):
        if self.state == "dead":
            return True
        # replayed or cancelled: gone once no message of the same aggregate is dead
        return None if self.sudo()._dead_siblings() else False

    def _exception_values(self):
        event = self.event_id
        record = self._exception_record(event.aggregate_model, event.aggregate_id)
        return {
            "name": _(
                "%(record)s: %(type)s did not reach %(system)s",
                record=event.aggregate_ref or event.aggregate_canonical_id,
                type=self.type_code,
                system=self.system_id.name,
            ),
            "system_id": self.system_id.id,
            "detail": self.last_error or False,
            **self._exception_links(record, severity="high"),
        }

    def _exception_resolution_note(self):
        return _("No message of this record is dead-lettered any more (replayed or cancelled).")

    def _exception_retry(self):
        """Replay the dead messages of this aggregate to this flow, in order (managers)."""
        if not self.env.user.has_group("logistics_sync_core.group_logistics_sync_manager"):
            raise AccessError(_("Only Logistics Sync managers replay messages."))
        dead = self.sudo()._dead_siblings().sorted("id")
        dead._replay()
        self.env["logistics.sync.console.log"]._log("replay", dead, _("from the exception desk"))
        return True
