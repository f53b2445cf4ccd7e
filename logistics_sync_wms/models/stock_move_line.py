from odoo import _, api, models

from odoo.addons.logistics_sync_core.exceptions import OwnershipError
from odoo.addons.logistics_sync_core.models.logistics_sync_event import CONTEXT_ORIGIN

from .stock_picking import CONTEXT_WMS_VALIDATE
from .stock_warehouse import OWNED_LINE_FIELDS


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        picked = [i for i, vals in enumerate(vals_list) if vals.get("picked")]
        for index in picked:
            lines[index]._logistics_sync_wms_check_owned(vals_list[index])
        return lines

    def write(self, vals):
        self._logistics_sync_wms_check_owned(vals)
        return super().write(vals)

    def _logistics_sync_wms_check_owned(self, vals):
        """Pick and pack quantities of a transfer run by a warehouse system belong to that
        system (core ownership rule on ``stock.move.line``): what it reported picked, and
        marking lines picked, cannot be changed from Odoo, only by the owner's own
        confirmations (or a manager's explicit override)."""
        touched = set(vals) & set(OWNED_LINE_FIELDS)
        if not touched or self.env.context.get(CONTEXT_WMS_VALIDATE):
            return
        Rule = self.env["logistics.sync.ownership.rule"].sudo()
        origin = self.env["logistics.sync.system"].browse(self.env.context.get(CONTEXT_ORIGIN))
        for line in self:
            if not (line.picked or vals.get("picked")) or line.state in ("done", "cancel"):
                continue
            owner = line.picking_id.logistics_sync_wms_system_id.sudo()
            if not owner:
                continue
            if origin == owner and not line._logistics_sync_wms_other_rules(owner, vals):
                continue  # the system running the transfer
            if origin:
                # another system's change: the core decides (the owner's rule refuses it)
                if not Rule._check_change(origin, line, vals):
                    raise OwnershipError(
                        _("The change of %s was parked for review.", line.display_name)
                    )
                continue
            rules = Rule.search(
                [("res_model", "=", "stock.move.line"), ("owner_system_id", "=", owner.id)]
            )
            rule = next((r for r in rules if r._applies(vals, None)), None)
            if rule:
                raise OwnershipError(
                    _(
                        "%(system)s is the system of record for what is picked and packed on "
                        "%(picking)s (rule '%(rule)s'): %(fields)s cannot be changed in Odoo.",
                        system=owner.name,
                        picking=line.picking_id.name,
                        rule=rule.name,
                        fields=", ".join(sorted(touched)),
                    )
                )

    def _logistics_sync_wms_other_rules(self, owner, vals):
        """Rules on move lines naming another owner than ``owner`` that apply to ``vals``;
        the rules of other warehouse systems are about the transfers those systems run."""
        rules = (
            self.env["logistics.sync.ownership.rule"]
            .sudo()
            .search([("res_model", "=", "stock.move.line"), ("owner_system_id", "!=", owner.id)])
        )
        return rules.filtered(
            lambda r: not r.owner_system_id.wms_warehouse_ids and r._applies(vals, None)
        )
