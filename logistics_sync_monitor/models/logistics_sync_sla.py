from odoo import _, api, fields, models


class LogisticsSyncSla(models.AbstractModel):
    """SLA alerts: a cron runs every registered check; each breach opens (or keeps open) one
    exception of kind ``sla_breach``, whose responsible people are notified (activity and
    e-mail) and which emits the canonical event ``sla.breached`` once per breach, so an
    alerting endpoint can subscribe to it. A breach no longer reported is resolved.

    A check is a method returning the breaches found at ``now``, each a dict::

        {"key": "sla:flow:12",            # the same breach keeps the same key
         "values": {...},                  # exception values (logistics.sync.exception._open)
         "payload": {...}}                 # extra fields of the sla.breached payload

    registered in :meth:`_get_sla_checks` (extend with ``super()``); the keys of a check
    must start with ``sla:<code>:``.
    """

    _name = "logistics.sync.sla"
    _description = "Logistics Sync SLA Checks"

    @api.model
    def _get_sla_checks(self):
        """Return ``{code: method name}``."""
        return {"flow": "_sla_check_flow"}

    @api.model
    def _cron_check(self):
        """Run every check; return ``{code: number of breaches}``."""
        now = fields.Datetime.now()
        Exception = self.env["logistics.sync.exception"].sudo()
        found = {}
        for code, method in self._get_sla_checks().items():
            breaches = getattr(self, method)(now)
            found[code] = len(breaches)
            keys = set()
            for breach in breaches:
                keys.add(breach["key"])
                exception, status = Exception._open(
                    "sla_breach",
                    breach["key"],
                    {"severity": "high", **breach["values"]},
                    count=False,
                )
                if status in ("opened", "reopened"):
                    self._announce(exception, code, breach, now)
            over = Exception.search(
                [
                    ("kind", "=", "sla_breach"),
                    ("dedup_key", "=like", f"sla:{code}:%"),
                    ("state", "in", ("new", "assigned")),
                    ("dedup_key", "not in", list(keys)),
                ]
            )
            Exception._resolve(over.mapped("dedup_key"), _("The SLA is met again."))
        return found

    @api.model
    def _announce(self, exception, code, breach, now):
        """Notify the responsible people and emit ``sla.breached``."""
        exception._notify_responsible(
            _("SLA breached: %s", exception.name), exception.detail or exception.name
        )
        system = exception.system_id
        self.env["logistics.sync.event"]._emit(
            "sla.breached",
            exception,
            {
                "sla": code,
                "exception_id": exception.id,
                "summary": exception.name,
                "severity": exception.severity,
                "system": system.code or None,
                "warehouse": exception.warehouse_id.code or None,
                "detected_at": fields.Datetime.to_string(now) + "Z",
                "detail": exception.detail or None,
                **breach.get("payload", {}),
            },
        )

    # ------------------------------------------------------------------ checks

    @api.model
    def _sla_check_flow(self, now):
        """Flows whose messages wait past their deadline (pending or failing), one breach
        per flow with the count and the oldest deadline. Record-only flows never deliver:
        they have no SLA to breach."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT m.flow_id, count(*), min(m.deadline)
              FROM logistics_sync_message m
              JOIN logistics_sync_flow f ON f.id = m.flow_id
             WHERE m.state IN ('pending', 'failed') AND m.deadline < %s
               AND f.transport != 'record'
             GROUP BY m.flow_id
            """,
            (now,),
        )
        Flow = self.env["logistics.sync.flow"].sudo()
        Exception = self.env["logistics.sync.exception"]
        breaches = []
        for flow_id, count, oldest in self.env.cr.fetchall():
            flow = Flow.browse(flow_id)
            late_minutes = int((now - oldest).total_seconds() // 60)
            breaches.append(
                {
                    "key": f"sla:flow:{flow_id}",
                    "values": {
                        "name": _(
                            "%(flow)s: messages undelivered past the %(sla)s-minute SLA",
                            flow=flow.name,
                            sla=flow.sla_minutes,
                        ),
                        "system_id": flow.system_id.id,
                        "company_id": flow.company_id.id or False,
                        "detail": _(
                            "%(count)s message(s) past their deadline; the oldest deadline "
                            "passed %(minutes)s minute(s) ago (%(oldest)s UTC).",
                            count=count,
                            minutes=late_minutes,
                            oldest=fields.Datetime.to_string(oldest),
                        ),
                        **Exception._record_values(flow, "source"),
                    },
                    "payload": {
                        "flow": flow.name,
                        "late_messages": count,
                        "oldest_deadline": fields.Datetime.to_string(oldest) + "Z",
                    },
                }
            )
        return breaches
