from odoo import fields, models

from .. import payload as payload_tools


class LogisticsSyncFlow(models.Model):
    """A routing rule: which event types go to which system, how, when and in what shape.

    Transports are provided by other addons (``logistics_sync_webhook`` adds HTTP and
    RabbitMQ): each adds a value to ``transport`` and implements
    ``_send_<transport>(messages)`` on ``logistics.sync.message``. With the core alone, flows
    decide which messages are created and keep them for inspection.
    """

    _name = "logistics.sync.flow"
    _description = "Logistics Sync Flow"
    _inherit = ["mail.thread"]
    _order = "system_id, sequence, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    system_id = fields.Many2one(
        "logistics.sync.system",
        string="Destination",
        required=True,
        ondelete="cascade",
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        help="Only events of this company are routed; empty for all companies.",
    )
    event_type_ids = fields.Many2many(
        "logistics.sync.event.type",
        string="Event types",
        required=True,
        help="Events of these types (any version) go to the destination.",
    )
    transport = fields.Selection(
        [("record", "Record only")],
        required=True,
        default="record",
        help="How messages are delivered. 'Record only' keeps the messages in Odoo for "
        "inspection without sending them.",
    )
    mode = fields.Selection(
        [("realtime", "Real-time"), ("batch", "Scheduled batch")],
        required=True,
        default="realtime",
        tracking=True,
        help="Real-time: each message is delivered as soon as its event is routed. Batch: "
        "messages wait for the scheduled run, which sends them grouped.",
    )
    batch_interval = fields.Integer(
        string="Batch every (minutes)", default=60, help="For batch flows."
    )
    batch_size = fields.Integer(default=100, help="Largest number of events per batch.")
    allowed_fields = fields.Text(
        string="Field allow-list",
        help="Comma-separated dotted paths of the payload to send (e.g. 'name, lines.sku'). "
        "Empty sends the whole payload.",
    )
    masked_fields = fields.Text(
        help="Comma-separated dotted paths replaced by '***' (personal data such as "
        "'partner.email, partner.phone').",
    )
    allow_echo = fields.Boolean(
        help="Also send events caused by a change that came from the destination itself. "
        "Off by default: a system is not told about its own changes.",
    )
    sla_minutes = fields.Integer(
        string="SLA (minutes)",
        help="Time within which a message must be delivered; later ones are flagged late.",
    )

    def _matches(self, event):
        """Return whether ``event`` should go through this flow."""
        self.ensure_one()
        if self.company_id and event.company_id and self.company_id != event.company_id:
            return False
        if event.origin_system_id == self.system_id and not self.allow_echo:
            return False
        return event.type_code in self.event_type_ids.mapped("code")

    def _shape(self, payload):
        """Apply the flow's allow-list and masking to an event payload."""
        self.ensure_one()
        return payload_tools.apply_policy(payload, self.allowed_fields, self.masked_fields)
