from odoo import api, fields, models
from odoo.exceptions import ValidationError


class LogisticsSyncSystem(models.Model):
    _inherit = "logistics.sync.system"

    inventory_auto_approve = fields.Boolean(
        string="Auto-approve within tolerance",
        help="When a snapshot is reconciled, differences within tolerance are approved and "
        "applied at once; only those beyond it wait for a manager.",
    )
    inventory_chunk_size = fields.Integer(
        string="Snapshot lines per job",
        default=5000,
        help="Snapshots are processed by jobs of this many lines each, one after the other.",
    )
    inventory_snapshot_ids = fields.One2many("logistics.sync.inventory.snapshot", "system_id")

    @api.constrains("inventory_chunk_size")
    def _check_inventory_chunk_size(self):
        for system in self:
            if not 1 <= system.inventory_chunk_size <= 100000:
                raise ValidationError(
                    self.env._("The snapshot lines per job must be 1 to 100,000.")
                )

    def action_view_inventory_snapshots(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_sync_wms.logistics_sync_inventory_snapshot_action"
        )
        action["domain"] = [("system_id", "=", self.id)]
        return action
