from odoo import models


class LogisticsSyncReplayWizard(models.TransientModel):
    """The webhook addon's replay wizard, logged in the console's history."""

    _inherit = "logistics.sync.replay.wizard"

    def action_replay(self):
        messages = self._targets()
        result = super().action_replay()
        self.env["logistics.sync.console.log"]._log(
            "replay", messages, self.env._("with new ids") if self.as_new else None
        )
        return result
