import time

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.logistics_sync_webhook import delivery

from .. import file_transport


class LogisticsSyncFlow(models.Model):
    """A flow with transport *File* writes each message as a file (EDIFACT ORDERS or CSV,
    per its outgoing file format) into the partner's upload folder, over the system's file
    transport (watched folder or SFTP), with the retries, ordering and breaker of the other
    delivery transports. Files are not signed."""

    _inherit = "logistics.sync.flow"

    transport = fields.Selection(
        selection_add=[("file", "File (partner folder or SFTP)")],
        ondelete={"file": "set default"},
    )
    file_format_id = fields.Many2one(
        "logistics.sync.file.format",
        string="File format",
        domain="[('system_id', '=', system_id), ('direction', '=', 'out')]",
        help="How messages are written as files (the destination's outgoing formats).",
    )

    @api.constrains("transport", "file_format_id", "system_id")
    def _check_file_transport(self):
        for flow in self.filtered(lambda f: f.transport == "file"):
            if not flow.file_format_id or flow.file_format_id.system_id != flow.system_id:
                raise ValidationError(
                    _("A file flow needs an outgoing file format of its destination.")
                )
            if flow.system_id.file_transport == "none":
                raise ValidationError(
                    _("%s exchanges no files: set its file transport first.", flow.system_id.name)
                )

    def _matches(self, event):
        """A fulfilment request's events go to the system that runs its warehouse only."""
        if not super()._matches(event):
            return False
        if event.aggregate_model != "logistics.sync.wms.fulfilment":
            return True
        fulfilment = self.env[event.aggregate_model].sudo().browse(event.aggregate_id)
        return fulfilment.system_id == self.system_id

    @api.model
    def _delivered_transports(self):
        return [*super()._delivered_transports(), "file"]

    def _signs_messages(self):
        return self.transport != "file" and super()._signs_messages()

    def deliver_batch(self):
        if self.transport != "file":
            return super().deliver_batch()
        # a file per message, whether real-time or batched
        self.ensure_one()
        self._lock()
        if self.delivery_state != "enabled" or self.system_id.state != "active":
            return "not sent"
        messages = self._ready_messages(limit=self.batch_size or 250, batched=True)
        self.last_batch_at = fields.Datetime.now()
        if not messages:
            return "nothing to send"
        return f"{self._deliver_file(messages, ())}/{len(messages)} delivered"

    def _deliver_file(self, messages, secrets):
        """Upload one file per message; return how many were delivered."""
        started = time.monotonic()
        try:
            files = self.system_id._file_transport()
        except file_transport.TransportError as exc:
            messages._record_attempt(
                status_code=0,
                duration=time.monotonic() - started,
                error=str(exc),
                outcome=delivery.RETRY,
            )
            self._breaker_failure()
            return 0
        delivered = 0
        with files:
            for message in messages:
                started = time.monotonic()
                name, data = self.file_format_id._render_message(message)
                try:
                    files.upload(name, data)
                except file_transport.TransportError as exc:
                    message._record_attempt(
                        status_code=0,
                        duration=time.monotonic() - started,
                        error=str(exc),
                        outcome=delivery.RETRY,
                    )
                    if self._breaker_failure():
                        break
                    continue
                self.env["logistics.sync.file.exchange"]._record_sent(message, name, data)
                message._record_attempt(
                    status_code=0,
                    duration=time.monotonic() - started,
                    outcome=delivery.DELIVERED,
                    excerpt=f"written as {self.system_id.file_upload_path}/{name}",
                )
                delivered += 1
                self._breaker_success()
        return delivered
