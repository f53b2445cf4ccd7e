from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

SEVERITIES = [("low", "Low"), ("medium", "Medium"), ("high", "High"), ("critical", "Critical")]
STATES = [
    ("new", "New"),
    ("assigned", "Assigned"),
    ("resolved", "Resolved"),
    ("dismissed", "Dismissed"),
]
OPEN_STATES = ("new", "assigned")
#: How far back resolved exceptions teach the assignee suggestion.
SUGGESTION_DAYS = 90


class LogisticsSyncException(models.Model):
    """One problem that needs a person, whatever its source.

    Sources call the small API below (or inherit ``logistics.sync.exception.source``, which
    calls it on their state changes); every exception has a *dedup key*, UNIQUE in
    PostgreSQL, so the same problem seen again updates one exception (``occurrences``,
    ``last_seen``) instead of adding another::

        Exception = self.env["logistics.sync.exception"]
        exception, status = Exception._open("dead_letter", "dead_letter:12:<uuid>", {
            "name": "S00042 never reached Acme WMS", "system_id": wms.id, ...})
        Exception._resolve(["dead_letter:12:<uuid>"], note="Replayed and delivered.")

    Kinds are registered in :meth:`_get_exception_sources` (extend with ``super()``).
    A resolved exception seen again is reopened; a dismissed one stays dismissed (a person
    decided it needs nothing) but keeps counting.
    """

    _name = "logistics.sync.exception"
    _description = "Logistics Sync Exception"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "last_seen desc, id desc"

    name = fields.Char(string="Summary", required=True, tracking=True)
    kind = fields.Selection(selection="_selection_kind", required=True, index=True)
    severity = fields.Selection(SEVERITIES, default="medium", required=True, tracking=True)
    state = fields.Selection(
        STATES,
        default="new",
        required=True,
        index=True,
        tracking=True,
        group_expand="_group_expand_state",
    )
    dedup_key = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        help="Identifies the problem: the same problem seen again updates this exception.",
    )
    system_id = fields.Many2one("logistics.sync.system", ondelete="set null", index=True)
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        ondelete="set null",
        index=True,
        help="The warehouse concerned; its staff see the exception. Empty: everyone does.",
    )
    company_id = fields.Many2one("res.company", index=True)
    res_model = fields.Char(string="Business record model", readonly=True)
    res_id = fields.Many2oneReference(
        string="Business record ID", model_field="res_model", readonly=True
    )
    res_name = fields.Char(string="Business record", readonly=True)
    source_model = fields.Char(string="Technical record model", readonly=True)
    source_id = fields.Many2oneReference(
        string="Technical record ID", model_field="source_model", readonly=True
    )
    source_name = fields.Char(string="Technical record", readonly=True)
    detail = fields.Text(readonly=True, help="The latest error or figures behind the problem.")
    first_seen = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_seen = fields.Datetime(readonly=True, default=fields.Datetime.now, index=True)
    occurrences = fields.Integer(
        readonly=True, default=1, help="How many times the problem was seen."
    )
    user_id = fields.Many2one(
        "res.users", string="Assignee", tracking=True, index=True, domain=[("share", "=", False)]
    )
    team_id = fields.Many2one("logistics.sync.exception.team", tracking=True)
    resolved_at = fields.Datetime(readonly=True)
    resolved_by_id = fields.Many2one(
        "res.users",
        readonly=True,
        help="Who resolved or dismissed it; empty when its cause went away by itself.",
    )
    resolution = fields.Selection(
        [
            ("auto", "Cause resolved"),
            ("manual", "Resolved by a person"),
            ("dismissed", "Dismissed"),
        ],
        readonly=True,
    )
    resolution_note = fields.Text(readonly=True)
    suggested_user_id = fields.Many2one(
        "res.users",
        compute="_compute_suggestion",
        string="Suggested assignee",
        help="Who resolved most similar exceptions (same kind and system) lately. Only a "
        "suggestion: press 'Assign to suggested' to follow it.",
    )
    suggestion_basis = fields.Char(compute="_compute_suggestion")
    is_my_warehouse = fields.Boolean(
        compute="_compute_is_my_warehouse",
        search="_search_is_my_warehouse",
        string="In my warehouses",
    )
    can_retry = fields.Boolean(compute="_compute_actions")
    can_map = fields.Boolean(compute="_compute_actions")
    can_accept = fields.Boolean(compute="_compute_actions")

    _sql_constraints = [
        ("dedup_key_unique", "UNIQUE(dedup_key)", "This problem already has an exception."),
    ]

    # ------------------------------------------------------------------ registry

    @api.model
    def _get_exception_sources(self):
        """Return ``{kind: {"name": label, "retry": method, "map": method, "accept":
        method, "discard": method}}``: the kinds of exception and the methods of their
        technical record that the desk's buttons call (each optional). Extend with
        ``super()``; a source model then inherits ``logistics.sync.exception.source``."""
        return {
            "dead_letter": {"name": _("Dead-lettered message"), "retry": "_exception_retry"},
            "inbound_error": {"name": _("Inbound processing error"), "retry": "action_retry"},
            "unknown_code": {"name": _("Unknown code"), "map": "_exception_map"},
            "parked_change": {
                "name": _("Parked change"),
                "accept": "action_apply",
                "discard": "action_discard",
            },
            "saga_failed": {"name": _("Failed saga"), "retry": "action_retry"},
            "sla_breach": {"name": _("SLA breach")},
            "booking_failed": {
                "name": _("Carrier booking failed"),
                "retry": "_exception_retry_booking",
            },
            "cancel_refused": {
                "name": _("Carrier cancellation refused"),
                "retry": "_exception_retry_cancel",
            },
            "delivery_failed": {"name": _("Delivery failed")},
            "pod_late": {"name": _("Proof of delivery late")},
            "transit_anomaly": {"name": _("Slow shipment (transit anomaly)")},
            "scan_gap": {"name": _("No tracking scan for longer than usual")},
            "reconciliation": {"name": _("Inventory differences to review")},
            "wms_confirmation": {
                "name": _("WMS confirmation not applied"),
                "retry": "action_retry",
            },
        }

    @api.model
    def _selection_kind(self):
        return [(kind, spec["name"]) for kind, spec in self._get_exception_sources().items()]

    @api.model
    def _group_expand_state(self, states, domain):
        return [key for key, _label in STATES]

    # ------------------------------------------------------------------ source API

    @api.model
    def _open(self, kind, key, values, count=True):
        """Open the exception ``key`` or, when it exists, record that it was seen again.

        ``values`` are exception fields (``name``, ``severity``, ``system_id``,
        ``warehouse_id``, ``res_model``/``res_id``/``res_name``, ``source_model``/
        ``source_id``/``source_name``, ``detail``, ``company_id``). ``count=False`` updates
        an ongoing problem without counting one more occurrence (an SLA still breached); a
        resolved one that comes back always counts.
        Return ``(exception, status)``, status being ``"opened"``, ``"reopened"``,
        ``"seen"`` or ``"dismissed"`` (seen again but dismissed by a person).
        """
        Exception = self.sudo()
        cr = self.env.cr
        now = fields.Datetime.now()
        self.flush_model()
        # the UNIQUE key decides: a concurrent opening of the same problem meets it here
        cr.execute(
            """
            INSERT INTO logistics_sync_exception AS x
                (dedup_key, kind, name, severity, state, occurrences, first_seen, last_seen,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%(key)s, %(kind)s, %(name)s, %(severity)s, 'new', 1, %(now)s, %(now)s,
                    %(uid)s, %(now)s, %(uid)s, %(now)s)
            ON CONFLICT (dedup_key) DO UPDATE
               SET occurrences = x.occurrences
                                 + CASE WHEN %(count)s OR x.state = 'resolved' THEN 1 ELSE 0 END,
                   last_seen = %(now)s
            RETURNING id, (xmax = 0) AS inserted, state
            """,
            {
                "key": key,
                "kind": kind,
                "name": values.get("name") or key,
                "severity": values.get("severity") or "medium",
                "now": now,
                "uid": self.env.uid,
                "count": count,
            },
        )
        exception_id, inserted, state = cr.fetchone()
        exception = Exception.browse(exception_id)
        exception.invalidate_recordset(["occurrences", "last_seen"])
        if inserted:
            exception.write(values)
            exception._apply_rules()
            return exception, "opened"
        update = {k: v for k, v in values.items() if k in ("name", "detail", "severity")}
        if state == "resolved":
            update.update(
                state="assigned" if exception.user_id else "new",
                resolved_at=False,
                resolved_by_id=False,
                resolution=False,
                resolution_note=False,
            )
        exception.write(update)
        if state == "resolved":
            exception.message_post(body=_("Seen again after it was resolved: reopened."))
            if not exception.user_id:
                exception._apply_rules()
            return exception, "reopened"
        return exception, "dismissed" if state == "dismissed" else "seen"

    @api.model
    def _resolve(self, keys, note=None):
        """The cause of the open exceptions ``keys`` went away: resolve them. Return them."""
        if not keys:
            return self.browse()
        exceptions = self.sudo().search(
            [("dedup_key", "in", list(keys)), ("state", "in", OPEN_STATES)]
        )
        exceptions._close("resolved", "auto", note or _("The cause was resolved."))
        return exceptions

    @api.model
    def _resolve_all_but(self, kind, keys, note, key_prefix=None):
        """A check that found the open exceptions ``keys`` of ``kind`` (among those whose
        key starts with ``key_prefix``, when given) resolves the others: their cause went
        away. Return them."""
        domain = [
            ("kind", "=", kind),
            ("state", "in", OPEN_STATES),
            ("dedup_key", "not in", list(keys)),
        ]
        if key_prefix:
            domain.append(("dedup_key", "=like", key_prefix + "%"))
        return self._resolve(self.sudo().search(domain).mapped("dedup_key"), note)

    @api.model
    def _sync_sources(self, records, count=True, changed=None):
        """Open, update or resolve the exceptions of source ``records`` (which inherit
        ``logistics.sync.exception.source``) after their state changed; ``changed``: the
        fields written (only the concerns they trigger are re-evaluated)."""
        to_resolve = {}
        for record in records:
            for concern in record._exception_concerns():
                watched = concern.get("fields")
                if changed is not None and watched and not set(watched) & set(changed):
                    continue
                if concern["needed"]:
                    self._open(concern["kind"], concern["key"], concern["values"](), count)
                elif concern["needed"] is False:
                    note = concern.get("note") or _("The cause was resolved.")
                    to_resolve.setdefault(note, []).append(concern["key"])
        resolved = self.browse()
        for note, keys in to_resolve.items():
            resolved |= self._resolve(keys, note)
        return resolved

    def _close(self, state, resolution, note):
        if not self:
            return
        self.write(
            {
                "state": state,
                "resolution": resolution,
                "resolution_note": note,
                "resolved_at": fields.Datetime.now(),
                "resolved_by_id": self.env.uid if resolution != "auto" else False,
            }
        )
        for exception in self:
            exception.message_post(body=note)
        self.activity_ids.action_feedback(feedback=note)

    def _responsible_users(self):
        """Who answers for this exception: its assignee, else its team, else the managers."""
        self.ensure_one()
        users = self.user_id or self.team_id.member_ids
        if not users:
            users = self.env.ref("logistics_sync_core.group_logistics_sync_manager").users
        return users.filtered(lambda u: not u.share and u.active)

    def _notify_responsible(self, summary, note):
        """An activity for each responsible person (one open at a time) and an e-mail."""
        activity_type = self.env.ref("mail.mail_activity_data_warning")
        template = self.env.ref("logistics_sync_monitor.mail_template_exception_alert")
        for exception in self:
            users = exception._responsible_users()
            waiting = exception.activity_ids.filtered(lambda a: a.summary == summary).user_id
            for user in users - waiting:
                exception.activity_schedule(
                    activity_type_id=activity_type.id, summary=summary, note=note, user_id=user.id
                )
            partners = users.partner_id.filtered("email")
            if partners:
                template.send_mail(
                    exception.id,
                    email_values={"recipient_ids": [(6, 0, partners.ids)]},
                )

    @api.model
    def _warehouse_of(self, record):
        """The warehouse a business record belongs to (empty when none)."""
        if not record:
            return self.env["stock.warehouse"]
        if record._name == "stock.picking":
            return record.picking_type_id.warehouse_id
        if "warehouse_id" in record._fields:
            return record.warehouse_id
        return self.env["stock.warehouse"]

    @api.model
    def _record_values(self, record, prefix):
        """``res_*`` (prefix "res") or ``source_*`` (prefix "source") values of ``record``."""
        record = record.exists() if record else record
        if not record:
            return {}
        return {
            f"{prefix}_model": record._name,
            f"{prefix}_id": record.id,
            f"{prefix}_name": record.sudo().display_name,
        }

    # ------------------------------------------------------------------ assignment

    def _apply_rules(self):
        Rule = self.env["logistics.sync.exception.rule"].sudo()
        for exception in self.filtered(lambda e: not e.user_id and not e.team_id):
            rule = Rule._match(exception)
            if rule.user_id:
                exception.write({"user_id": rule.user_id.id})
            elif rule.team_id:
                exception.write({"team_id": rule.team_id.id})

    @api.depends("kind", "system_id")
    def _compute_suggestion(self):
        since = fields.Datetime.now() - timedelta(days=SUGGESTION_DAYS)
        cache = {}
        for exception in self:
            signature = (exception.kind, exception.system_id.id)
            if signature not in cache:
                cache[signature] = self._suggest(*signature, since)
            user_id, resolved, total = cache[signature]
            exception.suggested_user_id = user_id
            exception.suggestion_basis = (
                _(
                    "%(user)s resolved %(count)s of the %(total)s similar exceptions (same "
                    "kind and system) resolved by a person in the last %(days)s days.",
                    user=self.env["res.users"].browse(user_id).name,
                    count=resolved,
                    total=total,
                    days=SUGGESTION_DAYS,
                )
                if user_id
                else False
            )

    @api.model
    def _suggest(self, kind, system_id, since):
        """``(user id, how many they resolved, how many were resolved)`` for similar
        exceptions resolved by a person since ``since``; ``(False, 0, total)`` when none."""
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT resolved_by_id, count(*)
              FROM logistics_sync_exception
             WHERE kind = %s AND system_id IS NOT DISTINCT FROM %s
               AND state = 'resolved' AND resolution = 'manual'
               AND resolved_by_id IS NOT NULL AND resolved_at >= %s
             GROUP BY resolved_by_id
             ORDER BY count(*) DESC, max(resolved_at) DESC
            """,
            (kind, system_id or None, since),
        )
        rows = self.env.cr.fetchall()
        if not rows:
            return False, 0, 0
        return rows[0][0], rows[0][1], sum(count for _user, count in rows)

    def _compute_is_my_warehouse(self):
        mine = self.env.user.logistics_sync_warehouse_ids
        for exception in self:
            exception.is_my_warehouse = exception.warehouse_id in mine

    def _search_is_my_warehouse(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Operation not supported"))
        positive = (operator == "=") == value
        ids = self.env.user.logistics_sync_warehouse_ids.ids
        return [("warehouse_id", "in" if positive else "not in", ids)]

    @api.depends("kind")
    def _compute_actions(self):
        sources = self._get_exception_sources()
        for exception in self:
            spec = sources.get(exception.kind, {})
            exception.can_retry = bool(spec.get("retry"))
            exception.can_map = bool(spec.get("map"))
            exception.can_accept = bool(spec.get("accept"))

    # ------------------------------------------------------------------ actions

    def _source_record(self):
        self.ensure_one()
        if not (self.source_model and self.source_id and self.source_model in self.env):
            return None
        return self.env[self.source_model].browse(self.source_id).exists()

    def _call_source(self, action):
        """Run the source's ``action`` method (see the registry) on the technical record, as
        the current user: the source's own access rights apply."""
        for exception in self:
            method = self._get_exception_sources().get(exception.kind, {}).get(action)
            record = exception._source_record()
            if not method or not record:
                raise UserError(
                    _(
                        "%(exception)s offers no '%(action)s'.",
                        exception=exception.name,
                        action=action,
                    )
                )
            result = getattr(record, method)()
            exception.message_post(
                body=_("%(action)s requested by %(user)s.", action=action, user=self.env.user.name)
            )
            if len(self) == 1 and isinstance(result, dict):
                return result
        return True

    def action_retry(self):
        """Retry or replay the underlying record."""
        return self._call_source("retry")

    def action_map(self):
        """Open the unknown code, to type its canonical value and map it."""
        return self._call_source("map")

    def action_accept(self):
        return self._call_source("accept")

    def action_discard(self):
        return self._call_source("discard")

    def action_assign_to_me(self):
        self.write({"user_id": self.env.uid})

    def action_assign_suggested(self):
        for exception in self:
            if not exception.suggested_user_id:
                raise UserError(_("No suggestion for %s.", exception.name))
            exception.write({"user_id": exception.suggested_user_id.id})
            exception.message_post(body=_("Assigned as suggested: %s", exception.suggestion_basis))

    def action_resolve(self):
        self.filtered(lambda e: e.state in OPEN_STATES)._close(
            "resolved", "manual", _("Resolved by %s.", self.env.user.name)
        )

    def action_reopen(self):
        for exception in self.filtered(lambda e: e.state in ("resolved", "dismissed")):
            exception.write(
                {
                    "state": "assigned" if exception.user_id else "new",
                    "resolution": False,
                    "resolved_at": False,
                    "resolved_by_id": False,
                }
            )

    def action_dismiss(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Dismiss"),
            "res_model": "logistics.sync.exception.dismiss.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_exception_ids": self.ids},
        }

    def _dismiss(self, reason):
        self.filtered(lambda e: e.state in OPEN_STATES)._close(
            "dismissed",
            "dismissed",
            _("Dismissed by %(user)s: %(reason)s", user=self.env.user.name, reason=reason),
        )

    def action_open_business_record(self):
        self.ensure_one()
        return self._open_record(self.res_model, self.res_id)

    def action_open_source_record(self):
        self.ensure_one()
        return self._open_record(self.source_model, self.source_id)

    def _open_record(self, model, res_id):
        if not (model and res_id):
            raise UserError(_("No record to open."))
        return {
            "type": "ir.actions.act_window",
            "res_model": model,
            "res_id": res_id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------ writes

    def write(self, vals):
        if vals.get("user_id") and "state" not in vals:
            # taking an exception moves it along; an assignee on a closed one changes nothing
            new = self.filtered(lambda e: e.state == "new")
            rest = self - new
            result = super(LogisticsSyncException, new).write({**vals, "state": "assigned"})
            return super(LogisticsSyncException, rest).write(vals) and result
        return super().write(vals)

    @api.model
    def _cron_reconcile(self):
        """Resolve the open exceptions whose cause went away without passing through the
        ORM (writes in SQL, deleted records). Return how many were resolved."""
        open_ones = self.sudo().search(
            [("state", "in", OPEN_STATES), ("source_model", "!=", False)]
        )
        gone = self.browse()
        for model in set(open_ones.mapped("source_model")):
            if model not in self.env or "_exception_concerns" not in dir(self.env[model]):
                continue
            batch = open_ones.filtered(lambda e, m=model: e.source_model == m)
            records = self.env[model].sudo().browse(batch.mapped("source_id"))
            alive = records.exists()
            for exception in batch:
                record = records.browse(exception.source_id)
                if record not in alive or any(
                    concern["key"] == exception.dedup_key and concern["needed"] is False
                    for concern in record._exception_concerns()
                ):
                    gone |= exception
        gone._close("resolved", "auto", _("The cause was resolved."))
        return len(gone)
