from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_sync_availability = fields.Selection(
        [("reserved", "Reserved"), ("shortage", "Waiting for stock")],
        string="Announced availability",
        copy=False,
        readonly=True,
        help="Last availability announced to other systems (stock.reserved or "
        "stock.shortage), so a new reservation attempt only emits an event on change.",
    )

    def _logistics_sync_announce_availability(self):
        """Emit stock.reserved / stock.shortage for pickings whose availability changed."""
        Event = self.env["logistics.sync.event"]
        announced = {"stock.reserved": [], "stock.shortage": []}
        for picking in self:
            if picking.state == "assigned":
                availability = "reserved"
            elif picking.state == "confirmed":
                availability = "shortage"
            else:
                continue
            if picking.logistics_sync_availability == availability:
                continue
            picking.logistics_sync_availability = availability
            code = "stock.reserved" if availability == "reserved" else "stock.shortage"
            announced[code].append((picking, picking._logistics_sync_payload()))
        for code, emissions in announced.items():
            Event._emit_many(code, emissions)

    def action_cancel(self):
        open_pickings = self.filtered(lambda p: p.state != "cancel")
        result = super().action_cancel()
        self.env["logistics.sync.event"]._emit_many(
            "picking.cancelled",
            [
                (picking, picking._logistics_sync_payload())
                for picking in open_pickings.filtered(lambda p: p.state == "cancel")
            ],
        )
        return result

    def _action_done(self):
        open_pickings = self.filtered(lambda p: p.state != "done")
        result = super()._action_done()
        self.env["logistics.sync.event"]._emit_many(
            "picking.validated",
            [
                (picking, picking._logistics_sync_payload())
                for picking in open_pickings.filtered(lambda p: p.state == "done")
            ],
        )
        return result

    def _logistics_sync_payload(self):
        """Canonical payload of a picking; override to add data, keeping the schema valid."""
        self.ensure_one()
        records = self.env["logistics.sync.record"]
        return {
            "picking_id": records._canonical_id(self),
            "name": self.name,
            "picking_type": self.picking_type_code,
            "origin": self.origin or None,
            "order_id": records._canonical_id(self.sale_id) if self.sale_id else None,
            "scheduled_date": fields.Datetime.to_string(self.scheduled_date),
            "date_done": fields.Datetime.to_string(self.date_done) if self.date_done else None,
            "moves": [
                {
                    "sku": move.product_id.default_code or None,
                    "product": move.product_id.display_name,
                    "demand": move.product_uom_qty,
                    "quantity": move.quantity,
                    "uom": move.product_uom.name,
                    "state": move.state,
                }
                for move in self.move_ids
            ],
        }
