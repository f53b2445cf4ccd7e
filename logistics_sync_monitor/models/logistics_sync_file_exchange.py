from odoo import _, api, models


class LogisticsSyncFileExchange(models.Model):
    """Files of file-based partners that could not be read or applied feed the desk, one
    exception each; applying the file (after a Retry) resolves it."""

    _name = "logistics.sync.file.exchange"
    _inherit = ["logistics.sync.file.exchange", "logistics.sync.exception.source"]

    def _exception_kind(self):
        return "file_error"

    def _exception_needed(self):
        if self.direction != "in":
            return None
        if self.state == "error":
            return True
        return False if self.state == "applied" else None

    def _exception_values(self):
        where = _("line %s: ", self.error_line) if self.error_line else ""
        return {
            "name": _(
                "File %(file)s from %(system)s could not be applied",
                file=self.name,
                system=self.system_id.name,
            ),
            "system_id": self.system_id.id,
            "detail": f"{where}{self.error_message or ''}" or False,
            **self._exception_links(None, severity="high"),
        }

    def _exception_resolution_note(self):
        return _("The file was applied.")


class LogisticsSyncException(models.Model):
    _inherit = "logistics.sync.exception"

    @api.model
    def _get_exception_sources(self):
        sources = super()._get_exception_sources()
        sources["file_error"] = {"name": _("Partner file error"), "retry": "action_retry"}
        return sources
