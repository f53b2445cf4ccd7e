from odoo import api, fields, models
from odoo.exceptions import ValidationError

#: The credential holding the carrier API key (Authorization: Bearer).
SECRET_API_KEY = "carrier_api_key"


class LogisticsSyncSystem(models.Model):
    _inherit = "logistics.sync.system"

    carrier_base_url = fields.Char(
        string="Carrier API URL",
        help="Base URL of the carrier's API, e.g. https://api.carrier.example/v1. Calls go "
        "through the SSRF guard (System Parameter logistics_sync_webhook.allowed_networks "
        "lists private networks allowed). The API key is the credential named "
        "'carrier_api_key'.",
    )
    carrier_timeout = fields.Integer(
        string="Carrier timeout (s)",
        default=10,
        help="Longest wait for one answer of the carrier's API (1 to 30 seconds). Booking runs "
        "in the background, so a slow carrier never holds a user.",
    )
    carrier_poll_minutes = fields.Integer(
        string="Poll tracking every (minutes)",
        default=0,
        help="For carriers that do not push tracking webhooks: how often open shipments are "
        "queried. 0: never (the carrier pushes).",
    )
    carrier_last_poll_at = fields.Datetime(string="Last tracking poll", readonly=True)
    carrier_pod_delay_hours = fields.Integer(
        string="Proof of delivery expected within (hours)",
        default=24,
        help="A delivered shipment without proof of delivery after this delay is flagged "
        "'POD late'.",
    )
    delivery_carrier_ids = fields.One2many(
        "delivery.carrier", "logistics_sync_system_id", string="Shipping methods"
    )

    @api.constrains("carrier_timeout", "carrier_poll_minutes", "carrier_pod_delay_hours")
    def _check_carrier_settings(self):
        for system in self:
            if not 1 <= system.carrier_timeout <= 30:
                raise ValidationError(self.env._("The carrier timeout must be 1 to 30 seconds."))
            if system.carrier_poll_minutes < 0 or system.carrier_pod_delay_hours < 0:
                raise ValidationError(self.env._("Poll interval and POD delay cannot be negative."))

    def _carrier_api_key(self):
        self.ensure_one()
        return self._secret(SECRET_API_KEY)
