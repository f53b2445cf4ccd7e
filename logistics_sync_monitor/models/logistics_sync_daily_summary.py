from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import html_escape

PARAM_CHANNEL = "logistics_sync_monitor.summary_channel_id"
PARAM_EMAILS = "logistics_sync_monitor.summary_emails"


class LogisticsSyncDailySummary(models.AbstractModel):
    """The daily operational summary: what moved, what failed, what is at risk, in plain
    sentences written from the figures by templates (no language model). Posted to the
    Discuss channel of system parameter ``logistics_sync_monitor.summary_channel_id``
    (the *Logistics Sync operations* channel by default) and e-mailed to the addresses in
    ``logistics_sync_monitor.summary_emails`` (comma-separated) when set."""

    _name = "logistics.sync.daily.summary"
    _description = "Logistics Sync Daily Summary"

    @api.model
    def _figures(self, now):
        """The figures of the 24 hours before ``now`` (SQL aggregates)."""
        cr = self.env.cr
        since = now - timedelta(days=1)
        self.env.flush_all()
        cr.execute(
            """
            SELECT count(*) FROM logistics_sync_event
             WHERE create_date >= %s AND create_date < %s
            """,
            (since, now),
        )
        events = cr.fetchone()[0]
        cr.execute(
            """
            SELECT count(*) FILTER (WHERE outcome = 'delivered'),
                   count(*) FILTER (WHERE outcome IN ('dead', 'refused')),
                   count(*)
              FROM logistics_sync_message_attempt
             WHERE attempted_at >= %s AND attempted_at < %s
            """,
            (since, now),
        )
        delivered, dead, attempts = cr.fetchone()
        cr.execute(
            """
            SELECT count(*) FROM logistics_sync_inbound_message
             WHERE create_date >= %s AND create_date < %s
            """,
            (since, now),
        )
        inbound = cr.fetchone()[0]
        cr.execute(
            """
            SELECT count(*) FILTER (WHERE first_seen >= %(since)s AND first_seen < %(now)s),
                   count(*) FILTER (WHERE state IN ('resolved', 'dismissed')
                                      AND resolved_at >= %(since)s AND resolved_at < %(now)s),
                   count(*) FILTER (WHERE state IN ('new', 'assigned')),
                   count(*) FILTER (WHERE state = 'new' AND user_id IS NULL),
                   count(*) FILTER (WHERE state IN ('new', 'assigned') AND kind = 'sla_breach')
              FROM logistics_sync_exception
            """,
            {"since": since, "now": now},
        )
        opened, closed, still_open, unassigned, breaches = cr.fetchone()
        cr.execute(
            """
            SELECT count(*) FILTER (WHERE state = 'failed'),
                   count(*) FILTER (WHERE state = 'pending' AND deadline < %s)
              FROM logistics_sync_message WHERE state IN ('pending', 'failed')
            """,
            (now,),
        )
        failing, late = cr.fetchone()
        cr.execute(
            """
            SELECT name FROM logistics_sync_flow
             WHERE active AND delivery_state = 'tripped' ORDER BY name
            """
        )
        tripped = [row[0] for row in cr.fetchall()]
        cr.execute(
            """
            SELECT count(*) FILTER (WHERE booked_at >= %(since)s AND booked_at < %(now)s),
                   count(*) FILTER (WHERE state = 'failed'
                                      AND create_date >= %(since)s AND create_date < %(now)s),
                   count(*) FILTER (WHERE delivered_at >= %(since)s AND delivered_at < %(now)s),
                   count(*) FILTER (WHERE pod_late),
                   count(*) FILTER (WHERE state = 'cancel_failed')
              FROM logistics_sync_shipment
             WHERE booked_at >= %(since)s OR create_date >= %(since)s
                OR delivered_at >= %(since)s OR pod_late OR state = 'cancel_failed'
            """,
            {"since": since, "now": now},
        )
        booked, rejected, shipped, pod_late, refused = cr.fetchone()
        cr.execute(
            """
            SELECT count(*) FROM logistics_sync_shipment_milestone
             WHERE milestone = 'delivery_failed' AND occurred_at >= %s AND occurred_at < %s
            """,
            (since, now),
        )
        delivery_failed = cr.fetchone()[0]
        cr.execute(
            """
            SELECT count(*) FROM logistics_sync_exception
             WHERE kind = 'transit_anomaly' AND state IN ('new', 'assigned')
            """
        )
        slow = cr.fetchone()[0]
        cr.execute(
            """
            SELECT count(*) FROM logistics_sync_exception
             WHERE kind = 'scan_gap' AND state IN ('new', 'assigned')
            """
        )
        silent = cr.fetchone()[0]
        return {
            "booked": booked,
            "rejected": rejected,
            "shipped": shipped,
            "delivery_failed": delivery_failed,
            "pod_late": pod_late,
            "refused": refused,
            "slow": slow,
            "silent": silent,
            "events": events,
            "delivered": delivered,
            "dead": dead,
            "attempts": attempts,
            "inbound": inbound,
            "opened": opened,
            "closed": closed,
            "open": still_open,
            "unassigned": unassigned,
            "breaches": breaches,
            "failing": failing,
            "late": late,
            "tripped": tripped,
        }

    @api.model
    def _sentences(self, figures):
        """Plain-language sentences from ``figures``, one idea each."""
        f = figures
        rate = round(100.0 * f["delivered"] / f["attempts"], 1) if f["attempts"] else None
        moved = _(
            "What moved: %(events)s business events were recorded, %(delivered)s messages "
            "delivered and %(inbound)s inbound webhooks accepted.",
            events=f["events"],
            delivered=f["delivered"],
            inbound=f["inbound"],
        )
        if rate is not None:
            moved += " " + _("%(rate)s%% of delivery attempts succeeded.", rate=rate)
        failed = (
            _(
                "What failed: %(dead)s messages were dead-lettered; %(opened)s exceptions were "
                "opened and %(closed)s closed.",
                dead=f["dead"],
                opened=f["opened"],
                closed=f["closed"],
            )
            if f["dead"] or f["opened"]
            else _("What failed: nothing was dead-lettered and no exception was opened.")
        )
        carriers = None
        if f["booked"] or f["rejected"] or f["shipped"] or f["delivery_failed"]:
            carriers = _(
                "Carriers: %(booked)s bookings made and %(rejected)s rejected; %(shipped)s "
                "shipments delivered and %(failed)s delivery attempts failed.",
                booked=f["booked"],
                rejected=f["rejected"],
                shipped=f["shipped"],
                failed=f["delivery_failed"],
            )
        risks = []
        if f["refused"]:
            risks.append(_("%s bookings the carrier refused to cancel", f["refused"]))
        if f["pod_late"]:
            risks.append(_("%s deliveries wait for their proof of delivery", f["pod_late"]))
        if f["slow"]:
            risks.append(_("%s shipments are slower than usual on their lane", f["slow"]))
        if f["silent"]:
            risks.append(
                _("%s shipments have had no tracking scan for longer than usual", f["silent"])
            )
        if f["late"]:
            risks.append(_("%s messages wait past their SLA", f["late"]))
        if f["failing"]:
            risks.append(_("%s messages are failing and being retried", f["failing"]))
        if f["tripped"]:
            risks.append(_("the breaker is open for %s", ", ".join(f["tripped"])))
        if f["breaches"]:
            risks.append(_("%s SLA breaches are open", f["breaches"]))
        if f["unassigned"]:
            risks.append(_("%s exceptions have nobody assigned", f["unassigned"]))
        at_risk = (
            _("At risk: %s.", "; ".join(risks))
            if risks
            else _("At risk: nothing; every SLA is met.")
        )
        still = _("%s exceptions are open in all.", f["open"])
        return [moved, *([carriers] if carriers else []), failed, at_risk, still]

    @api.model
    def _cron_post(self, now=None):
        """Post the summary of the last 24 hours; return its text."""
        now = now or fields.Datetime.now()
        sentences = self._sentences(self._figures(now))
        title = _("Logistics Sync, daily summary to %s UTC", fields.Datetime.to_string(now)[:16])
        paragraphs = "".join(f"<p>{html_escape(sentence)}</p>" for sentence in sentences)
        body = f"<p><strong>{html_escape(title)}</strong></p>{paragraphs}"
        params = self.env["ir.config_parameter"].sudo()
        channel_id = int(params.get_param(PARAM_CHANNEL, 0) or 0)
        channel = self.env["discuss.channel"].sudo().browse(channel_id).exists()
        if not channel:
            channel = self.env.ref(
                "logistics_sync_monitor.channel_operations", raise_if_not_found=False
            )
        if channel:
            channel.message_post(
                body=Markup(body),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        emails = [e.strip() for e in (params.get_param(PARAM_EMAILS) or "").split(",") if e.strip()]
        if emails:
            self.env["mail.mail"].sudo().create(
                {
                    "subject": title,
                    "body_html": body,
                    "email_to": ",".join(emails),
                    "email_from": self.env.company.email_formatted or False,
                }
            )
        return "\n".join([title, *sentences])
