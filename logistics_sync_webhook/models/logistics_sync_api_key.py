import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import api as api_tools

# another call of the same key holds or has just changed its row
_CONCURRENT_UPDATE = (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure)


class LogisticsSyncApiScope(models.Model):
    """One scope of the partner REST API (``orders:write``, ...); data, not configuration."""

    _name = "logistics.sync.api.scope"
    _description = "Logistics Sync API Scope"
    _order = "code"
    _rec_name = "code"

    code = fields.Char(required=True, readonly=True)
    name = fields.Char(required=True, translate=True)

    _sql_constraints = [("code_unique", "UNIQUE(code)", "This scope already exists.")]


class LogisticsSyncApiKey(models.Model):
    """A key a system uses to call the partner REST API (``Authorization: Bearer <key>``).

    Only the SHA-256 hash of the key is stored, with its first characters to tell keys apart;
    the key itself is shown once, when generated (:meth:`action_generate`).
    """

    _name = "logistics.sync.api.key"
    _description = "Logistics Sync API Key"
    _order = "system_id, id desc"

    name = fields.Char(required=True, help="What the key is for, e.g. the partner's app.")
    system_id = fields.Many2one(
        "logistics.sync.system",
        required=True,
        ondelete="cascade",
        index=True,
        help="The system the key acts as: it only reaches this system's data.",
    )
    company_id = fields.Many2one(related="system_id.company_id", store=True, index=True)
    prefix = fields.Char(
        readonly=True, copy=False, help="First characters of the key, to recognise it."
    )
    key_hash = fields.Char(
        readonly=True, copy=False, groups="base.group_system", help="SHA-256 of the key."
    )
    scope_ids = fields.Many2many(
        "logistics.sync.api.scope",
        string="Scopes",
        help="What the key may do; a call outside them is refused with 403.",
    )
    expires_at = fields.Datetime(help="After this moment the key is refused (401). Empty: never.")
    revoked = fields.Boolean(readonly=True, copy=False, help="A revoked key is refused (401).")
    active = fields.Boolean(default=True)
    state = fields.Selection(
        [
            ("draft", "Not generated"),
            ("active", "Active"),
            ("expired", "Expired"),
            ("revoked", "Revoked"),
        ],
        compute="_compute_state",
    )
    last_used_at = fields.Datetime(readonly=True, copy=False)
    rate_limit = fields.Integer(
        string="Rate limit (requests)",
        default=120,
        help="Calls accepted per window (counted across all Odoo workers); more get 429 "
        "with Retry-After. 0: no limit.",
    )
    rate_window = fields.Integer(string="Rate window (s)", default=60)

    _sql_constraints = [
        ("key_hash_unique", "UNIQUE(key_hash)", "This key already exists."),
        (
            "rate_check",
            "CHECK(rate_limit >= 0 AND rate_window > 0)",
            "The rate limit must not be negative and the window must be positive.",
        ),
    ]

    @api.depends("key_hash", "revoked", "expires_at")
    def _compute_state(self):
        now = fields.Datetime.now()
        for key in self:
            if key.revoked:
                key.state = "revoked"
            elif not key.sudo().key_hash:
                key.state = "draft"
            elif key.expires_at and key.expires_at <= now:
                key.state = "expired"
            else:
                key.state = "active"

    def action_generate(self):
        """Generate the key (replacing any previous one) and show it once, in a sticky
        notification."""
        self.ensure_one()
        # the hash is written as superuser: only who may edit the key may replace it
        self.check_access("write")
        if self.revoked:
            raise ValidationError(_("A revoked key cannot be generated again; create a new one."))
        key, prefix, digest = api_tools.generate_key()
        self.sudo().write({"prefix": prefix, "key_hash": digest})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("New API key for %s", self.system_id.name),
                "message": _("Copy it now, it will not be shown again: %s", key),
                "sticky": True,
                "type": "warning",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_revoke(self):
        """Refuse the keys from now on; a revoked key cannot be restored."""
        self.write({"revoked": True})
        return True

    @api.model
    def _authenticate(self, key):
        """The active key whose hash matches ``key``; 401 otherwise (same answer whatever
        the cause: unknown, expired or revoked)."""
        digest = api_tools.hash_key(key)
        record = self.sudo().search([("key_hash", "=", digest)], limit=1)
        if (
            not record
            or record.revoked
            or not record.active
            or (record.expires_at and record.expires_at <= fields.Datetime.now())
            or record.system_id.state == "paused"
        ):
            raise api_tools.unauthorized()
        return record

    def _check_scope(self, scope):
        self.ensure_one()
        if scope not in self.scope_ids.mapped("code"):
            raise api_tools.forbidden(scope)

    def _check_rate(self):
        self.ensure_one()
        self.env["logistics.sync.rate.counter"]._check(
            f"api:{self.id}", self.rate_limit, self.rate_window
        )

    def _touch(self):
        """Record the use, once a minute at most: a busy key must not rewrite its row on every
        call. Concurrent calls of one key neither wait for nor fail on each other: a call that
        finds the row locked, or already updated by a call that committed meanwhile, leaves
        the update to that call."""
        now = fields.Datetime.now()
        for key in self:
            if key.last_used_at and (now - key.last_used_at).total_seconds() <= 60:
                continue
            try:
                with self.env.cr.savepoint(flush=False):
                    self.env.cr.execute(
                        """
                        UPDATE logistics_sync_api_key SET last_used_at = %s
                         WHERE id = (SELECT id FROM logistics_sync_api_key
                                      WHERE id = %s FOR NO KEY UPDATE NOWAIT)
                        """,
                        (now, key.id),
                        log_exceptions=False,
                    )
            except _CONCURRENT_UPDATE:
                continue
        self.invalidate_recordset(["last_used_at"])
