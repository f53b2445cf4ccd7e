from odoo import _, api, fields, models
from odoo.exceptions import AccessError

CHANNEL = "root.logistics_sync"
DELIVER_CHANNEL = "root.logistics_sync.deliver."


class QueueJob(models.Model):
    _inherit = "queue.job"

    logistics_sync_system_id = fields.Many2one(
        "logistics.sync.system",
        compute="_compute_logistics_sync_system_id",
        store=True,
        # written with the job's row: every routing job is created in a user's transaction
        precompute=True,
        string="Logistics Sync system",
        help="The external system the job works for (delivery channel, inbound drain, "
        "subscription); empty for routing and saga jobs.",
    )

    @api.depends("channel", "model_name", "records")
    def _compute_logistics_sync_system_id(self):
        System = self.env["logistics.sync.system"].sudo()
        for job in self:
            system = System
            if job.channel and job.channel.startswith(DELIVER_CHANNEL):
                system = System._by_code(job.channel[len(DELIVER_CHANNEL) :])
            elif job.model_name == "logistics.sync.system":
                system = job.records.sudo()[:1]
            elif job.model_name == "logistics.sync.flow":
                system = job.records.sudo()[:1].system_id
            job.logistics_sync_system_id = system.id or False

    def action_logistics_sync_requeue(self):
        """Requeue failed jobs of the Logistics Sync channels (managers), and log it."""
        if not self.env.user.has_group("logistics_sync_core.group_logistics_sync_manager"):
            raise AccessError(_("Only Logistics Sync managers requeue jobs."))
        jobs = self.sudo().filtered(
            lambda j: j.state in ("failed", "cancelled")
            and (j.channel == CHANNEL or (j.channel or "").startswith(CHANNEL + "."))
        )
        jobs.requeue()
        self.env["logistics.sync.console.log"]._log("requeue", jobs)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Jobs requeued"),
                "message": _("%s job(s) will run again.", len(jobs)),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
