from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

#: Context key: the transfer is being validated on the warehouse system's word, or by a
#: manager's explicit override.
CONTEXT_WMS_VALIDATE = "logistics_sync_wms_validate"
#: Context key: a confirmation of the warehouse system is being applied.
CONTEXT_WMS_APPLY = "logistics_sync_wms_apply"

OVERRIDE_GROUP = "logistics_sync_wms.group_logistics_sync_wms_override"


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_sync_wms_system_id = fields.Many2one(
        "logistics.sync.system",
        string="Run by",
        compute="_compute_logistics_sync_wms_system",
        search="_search_logistics_sync_wms_system",
        help="The external WMS or 3PL that performs this transfer (its warehouse and "
        "operation type are assigned to it).",
    )
    logistics_sync_wms_fulfilment_ids = fields.One2many(
        "logistics.sync.wms.fulfilment", "picking_id", readonly=True
    )
    logistics_sync_wms_fulfilment_id = fields.Many2one(
        "logistics.sync.wms.fulfilment",
        string="Fulfilment request",
        compute="_compute_logistics_sync_wms_fulfilment",
        store=True,
        index="btree_not_null",
    )
    logistics_sync_wms_uid = fields.Char(
        related="logistics_sync_wms_fulfilment_id.uid", string="Fulfilment ID"
    )
    logistics_sync_wms_state = fields.Selection(
        related="logistics_sync_wms_fulfilment_id.state", string="WMS state"
    )
    logistics_sync_wms_reservation_note = fields.Text(
        related="logistics_sync_wms_fulfilment_id.reservation_note", string="Shortage"
    )
    logistics_sync_wms_last_error = fields.Text(
        related="logistics_sync_wms_fulfilment_id.last_error", string="WMS error"
    )
    logistics_sync_wms_confirmation_ids = fields.One2many(
        related="logistics_sync_wms_fulfilment_id.confirmation_ids", string="WMS confirmations"
    )

    @api.depends("picking_type_id")
    def _compute_logistics_sync_wms_system(self):
        for picking in self:
            picking_type = picking.picking_type_id
            warehouse = picking_type.warehouse_id
            runs = picking_type in warehouse.logistics_sync_picking_type_ids
            picking.logistics_sync_wms_system_id = (
                warehouse.logistics_sync_system_id if runs else False
            )

    def _search_logistics_sync_wms_system(self, operator, value):
        warehouses = self.env["stock.warehouse"].search(
            [("logistics_sync_system_id", operator, value)]
        )
        return [("picking_type_id", "in", warehouses.logistics_sync_picking_type_ids.ids)]

    @api.depends("logistics_sync_wms_fulfilment_ids")
    def _compute_logistics_sync_wms_fulfilment(self):
        for picking in self:
            picking.logistics_sync_wms_fulfilment_id = picking.logistics_sync_wms_fulfilment_ids[:1]

    # ------------------------------------------------------------ request out

    def _logistics_sync_wms_request(self):
        """Send the fulfilment request of the transfers the warehouse system runs, once
        they reached the warehouse's trigger (ready, or confirmed); announce a change of
        those already requested."""
        Fulfilment = self.env["logistics.sync.wms.fulfilment"]
        for picking in self:
            if not picking.logistics_sync_wms_system_id:
                continue
            if picking.logistics_sync_wms_fulfilment_ids:
                picking.logistics_sync_wms_fulfilment_ids._announce_change()
                continue
            trigger = picking.picking_type_id.warehouse_id.logistics_sync_request_trigger
            ready_states = (
                ("assigned",) if trigger == "ready" else ("confirmed", "waiting", "assigned")
            )
            if picking.state in ready_states:
                Fulfilment._request(picking)

    def _logistics_sync_wms_carrier(self):
        """``(carrier, service)`` to announce: the shipping method's system code and
        service when the carrier addon books it, else the shipping method's name."""
        carrier = self.carrier_id if "carrier_id" in self._fields else False
        if not carrier:
            return None, None
        # the carrier addon's booking system and service, when installed
        fields_ = carrier._fields
        system = (
            carrier.logistics_sync_system_id if "logistics_sync_system_id" in fields_ else False
        )
        service = carrier.logistics_sync_service if "logistics_sync_service" in fields_ else False
        return (system.code if system else carrier.name), service or None

    def action_confirm(self):
        result = super().action_confirm()
        self._logistics_sync_wms_request()
        return result

    def write(self, vals):
        result = super().write(vals)
        if {"partner_id", "scheduled_date", "carrier_id"} & set(vals) and not self.env.context.get(
            CONTEXT_WMS_APPLY
        ):
            self.logistics_sync_wms_fulfilment_ids._announce_change()
        return result

    def action_cancel(self):
        result = super().action_cancel()
        self.filtered(lambda p: p.state == "cancel").logistics_sync_wms_fulfilment_ids._cancel(
            _("Transfer cancelled in Odoo")
        )
        return result

    def _logistics_sync_announce_availability(self):
        # the warehouse system reserves the transfers it runs: it announces availability
        # (stock.reserved / stock.shortage with itself as origin), not Odoo's reservation
        return super(
            StockPicking, self.filtered(lambda p: not p.logistics_sync_wms_system_id)
        )._logistics_sync_announce_availability()

    # ------------------------------------------------------------ validation

    def button_validate(self):
        if not self.env.context.get(CONTEXT_WMS_VALIDATE):
            run = self.filtered(lambda p: p.logistics_sync_wms_system_id and p.state != "done")
            if run:
                raise UserError(
                    _(
                        "%(pickings)s is performed by %(system)s: it is validated when the "
                        "warehouse system confirms the shipment, not by hand. A Logistics Sync "
                        "manager may use 'Validate anyway' when the system cannot confirm.",
                        pickings=", ".join(run.mapped("name")),
                        system=", ".join(run.logistics_sync_wms_system_id.sudo().mapped("name")),
                    )
                )
        return super().button_validate()

    def action_logistics_sync_wms_override_validate(self):
        """Validate transfers run by a warehouse system by hand (managers only); the
        override is written in each transfer's chatter."""
        if not self.env.user.has_group(OVERRIDE_GROUP):
            raise AccessError(
                _("Only users allowed to override the warehouse system may validate this.")
            )
        for picking in self:
            picking.message_post(
                body=_(
                    "Validated by hand by %(user)s instead of by %(system)s's confirmation.",
                    user=self.env.user.name,
                    system=picking.logistics_sync_wms_system_id.sudo().name,
                )
            )
        return self.with_context(**{CONTEXT_WMS_VALIDATE: True}).button_validate()

    def action_logistics_sync_wms_open_fulfilment(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "logistics.sync.wms.fulfilment",
            "res_id": self.logistics_sync_wms_fulfilment_id.id,
            "view_mode": "form",
        }
