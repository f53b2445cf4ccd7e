from odoo import fields, models

from .. import crypto


class LogisticsSyncSecret(models.Model):
    """A credential or signing secret of a system, encrypted at rest.

    The plaintext is write-only in the UI and over RPC: ``value`` is an input field whose
    read always returns an empty string. Code that needs the plaintext calls
    :meth:`_get_plaintext` (server side only). Only managers have any access to this model.
    """

    _name = "logistics.sync.secret"
    _description = "Logistics Sync Secret"
    # addons cache decrypted credentials (inbound verification): a change clears them
    _inherit = ["logistics.sync.cache.mixin"]
    _order = "system_id, name"

    system_id = fields.Many2one(
        "logistics.sync.system", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="system_id.company_id", store=True)
    name = fields.Char(required=True, help="What this secret is for, e.g. 'api_key' or 'signing'.")
    value = fields.Char(
        compute="_compute_value",
        inverse="_inverse_value",
        string="Secret",
        help="Type a new value to replace the stored one. The stored value is never shown.",
    )
    ciphertext = fields.Char(readonly=True, groups="base.group_system", copy=False)
    is_set = fields.Boolean(compute="_compute_is_set", string="Stored")
    hint = fields.Char(
        readonly=True, copy=False, help="Last characters of the secret, to recognise it."
    )

    _sql_constraints = [
        ("name_unique", "UNIQUE(system_id, name)", "A system has one secret per name.")
    ]

    def _compute_value(self):
        self.value = ""

    def _inverse_value(self):
        for secret in self:
            if secret.value:
                secret.sudo().write(
                    {
                        "ciphertext": crypto.encrypt(secret.value),
                        "hint": "…" + secret.value[-3:] if len(secret.value) > 8 else "",
                    }
                )

    def _compute_is_set(self):
        for secret, stored in zip(self, self.sudo(), strict=True):
            secret.is_set = bool(stored.ciphertext)

    def _get_plaintext(self):
        """Return the decrypted secret (server side only; never send it to a client)."""
        self.ensure_one()
        token = self.sudo().ciphertext
        return crypto.decrypt(token) if token else False
