from odoo import api, fields, models

from odoo.addons.logistics_sync_core import crypto

from .. import signing


class LogisticsSyncSigningKey(models.Model):
    """A secret that signs the messages of one subscription (Standard Webhooks).

    Secrets are generated here, never typed; the plaintext is encrypted at rest and shown
    once, when generated. During a rotation the previous key keeps signing until its
    expiry, so partners can switch without losing a message.
    """

    _name = "logistics.sync.signing.key"
    _description = "Logistics Sync Signing Key"
    _order = "flow_id, id desc"

    flow_id = fields.Many2one(
        "logistics.sync.flow", string="Subscription", required=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="flow_id.company_id", store=True)
    algorithm = fields.Selection(
        [("hmac", "HMAC-SHA256 (v1, whsec_)"), ("ed25519", "Ed25519 (v1a, whsk_/whpk_)")],
        required=True,
        default="hmac",
    )
    ciphertext = fields.Char(readonly=True, groups="base.group_system", copy=False)
    public_key = fields.Char(
        readonly=True, help="Ed25519 public key (whpk_...) to give to the partner."
    )
    hint = fields.Char(readonly=True, help="Last characters of the secret, to recognise it.")
    expires_at = fields.Datetime(
        readonly=True, help="Set by a rotation: the key stops signing after this time."
    )
    state = fields.Selection(
        [("active", "Active"), ("expiring", "Expiring"), ("expired", "Expired")],
        compute="_compute_state",
    )

    @api.depends("expires_at")
    def _compute_state(self):
        now = fields.Datetime.now()
        for key in self:
            if not key.expires_at:
                key.state = "active"
            else:
                key.state = "expiring" if key.expires_at > now else "expired"

    @api.model
    def _generate(self, flow, algorithm="hmac"):
        """Create a key for ``flow``; return ``(key, plaintext)``. Show the plaintext once."""
        if algorithm == "ed25519":
            secret, public = signing.generate_ed25519_keypair()
        else:
            secret, public = signing.generate_hmac_secret(), False
        key = self.sudo().create(
            {
                "flow_id": flow.id,
                "algorithm": algorithm,
                "ciphertext": crypto.encrypt(secret),
                "public_key": public,
                "hint": "…" + secret[-4:],
            }
        )
        return key, secret

    def _secrets(self):
        """Plaintext secrets of the keys that sign now (server side only)."""
        now = fields.Datetime.now()
        return [
            crypto.decrypt(key.ciphertext)
            for key in self.sudo()
            if key.ciphertext and (not key.expires_at or key.expires_at > now)
        ]
