from odoo import _, api, fields, models

from odoo.addons.logistics_sync_webhook import api as api_tools


class LogisticsSyncMetricsToken(models.Model):
    """A bearer token a Prometheus server scrapes ``/logistics_sync/metrics`` with. Only its
    SHA-256 hash is stored; the token is shown once, when a manager generates it."""

    _name = "logistics.sync.metrics.token"
    _description = "Logistics Sync Metrics Token"
    _order = "id desc"

    name = fields.Char(required=True, help="Who scrapes with it, e.g. the Prometheus server.")
    prefix = fields.Char(readonly=True, copy=False, help="First characters, to recognise it.")
    token_hash = fields.Char(readonly=True, copy=False, groups="base.group_system")
    active = fields.Boolean(default=True, help="Archive a token to refuse it (401).")
    last_used_at = fields.Datetime(readonly=True, copy=False)

    _sql_constraints = [("token_hash_unique", "UNIQUE(token_hash)", "This token already exists.")]

    def action_generate(self):
        """Generate the token (replacing the previous one) and show it once."""
        self.ensure_one()
        self.check_access("write")
        token, prefix, digest = api_tools.generate_key()
        self.sudo().write({"prefix": prefix, "token_hash": digest})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("New metrics token"),
                "message": _("Copy it now, it will not be shown again: %s", token),
                "sticky": True,
                "type": "warning",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    @api.model
    def _authenticate(self, authorization):
        """Whether the ``Authorization`` header holds an active token."""
        scheme, _sep, value = (authorization or "").strip().partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value or len(value) > 200:
            return False
        token = self.sudo().search([("token_hash", "=", api_tools.hash_key(value))], limit=1)
        if not token:
            return False
        now = fields.Datetime.now()
        if not token.last_used_at or (now - token.last_used_at).total_seconds() > 300:
            self.env.cr.execute(
                "UPDATE logistics_sync_metrics_token SET last_used_at = %s WHERE id = %s",
                (now, token.id),
            )
        return True
