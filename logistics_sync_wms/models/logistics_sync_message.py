from odoo import models


class LogisticsSyncMessage(models.Model):
    _inherit = "logistics.sync.message"

    def _send_file(self):
        self.flow_id._schedule_delivery()
