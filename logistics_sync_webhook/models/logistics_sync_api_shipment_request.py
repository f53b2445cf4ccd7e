from odoo import fields, models


class LogisticsSyncApiShipmentRequest(models.Model):
    """A shipment booking a partner asked for through the REST API.

    With this addon alone it is only recorded: no carrier is called and no
    ``shipment.booked`` event is emitted (there is no booking until a carrier confirms one);
    someone in the warehouse acts on it. A carrier addon books it by overriding
    :meth:`_process`.
    """

    _name = "logistics.sync.api.shipment.request"
    _description = "Logistics Sync Shipment Booking Request"
    _order = "id desc"
    _rec_name = "uid"

    # the UNIQUE constraint indexes it
    uid = fields.Char(string="Request ID", required=True, readonly=True)
    system_id = fields.Many2one(
        "logistics.sync.system", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="system_id.company_id", store=True, index=True)
    key_id = fields.Many2one("logistics.sync.api.key", string="API key", readonly=True)
    picking_id = fields.Many2one("stock.picking", required=True, readonly=True, index=True)
    service = fields.Char(readonly=True, help="The carrier service the partner asked for.")
    reference = fields.Char(readonly=True, help="The partner's own reference of the request.")
    payload = fields.Json(readonly=True, help="The request body, as received.")
    state = fields.Selection(
        [("requested", "Requested"), ("done", "Handled"), ("cancel", "Cancelled")],
        default="requested",
        required=True,
        help="Requested: waiting for someone (or a carrier addon) to book it.",
    )

    _sql_constraints = [("uid_unique", "UNIQUE(uid)", "Request ids are unique.")]

    def _process(self):
        """Act on the request; return the API answer ``(status, body)``."""
        self.ensure_one()
        self.picking_id.message_post(
            body=self.env._(
                "%(system)s requested a shipment booking (%(id)s); no carrier was called.",
                system=self.system_id.name,
                id=self.uid,
            )
        )
        return 202, {
            "id": self.uid,
            "status": "requested",
            "shipment_id": self.env["logistics.sync.record"]._canonical_id(self.picking_id),
        }
