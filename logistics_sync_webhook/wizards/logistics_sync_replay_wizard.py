from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class LogisticsSyncReplayWizard(models.TransientModel):
    """Replay messages: the selection, or everything dead-lettered for a system in a time
    window. A dry run lists what would be sent. Managers only."""

    _name = "logistics.sync.replay.wizard"
    _description = "Logistics Sync Replay"

    scope = fields.Selection(
        [("selection", "Selected messages"), ("window", "Dead-lettered in a time window")],
        required=True,
        default="selection",
    )
    message_ids = fields.Many2many("logistics.sync.message", string="Messages")
    system_id = fields.Many2one("logistics.sync.system")
    date_from = fields.Datetime(string="From")
    date_to = fields.Datetime(string="To", default=fields.Datetime.now)
    as_new = fields.Boolean(
        string="Send as new messages",
        help="Give the messages new ids: receivers will not recognise them as duplicates. "
        "Leave off to keep the ids, so receivers can drop what they already processed.",
    )
    preview = fields.Text(readonly=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "logistics.sync.message":
            values["message_ids"] = [(6, 0, self.env.context.get("active_ids", []))]
        return values

    def _targets(self):
        self.ensure_one()
        if self.scope == "selection":
            messages = self.message_ids
        else:
            if not (self.system_id and self.date_from):
                raise UserError(_("Choose a system and the start of the time window."))
            domain = [
                ("system_id", "=", self.system_id.id),
                ("state", "=", "dead"),
                ("write_date", ">=", self.date_from),
            ]
            if self.date_to:
                # whole seconds on screen, microseconds in the database: include the last one
                domain.append(("write_date", "<", self.date_to + timedelta(seconds=1)))
            messages = self.env["logistics.sync.message"].search(domain, order="id")
        messages = messages.filtered(lambda m: m.transport in ("http", "amqp"))
        if not messages:
            raise UserError(_("No message to replay."))
        return messages

    def action_dry_run(self):
        self.ensure_one()
        messages = self._targets()
        lines = [
            f"{m.uid}  {m.type_code}  → {m.system_id.name} ({m.state}, {m.attempt_count} attempts)"
            for m in messages[:200]
        ]
        if len(messages) > 200:
            lines.append(_("… and %s more", len(messages) - 200))
        self.preview = _(
            "%(count)s message(s) would be sent%(ids)s:\n",
            count=len(messages),
            ids=_(" with new ids") if self.as_new else _(" with their ids"),
        ) + "\n".join(lines)
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_replay(self):
        self.ensure_one()
        messages = self._targets()
        messages._replay(as_new=self.as_new)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Replay queued"),
                "message": _("%s message(s) will be sent again.", len(messages)),
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
