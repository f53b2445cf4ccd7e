import hashlib

from odoo import api, fields, models

from .logistics_sync_shipment import MILESTONES


class LogisticsSyncShipmentMilestone(models.Model):
    """One tracking event of a shipment (or of one of its packages), as the carrier reported
    it: its canonical milestone, the carrier's own code, when and where.

    A report seen twice (the same webhook under a new id, a poll returning the history
    again) is stored once: UNIQUE per shipment on a key of package, code and time.
    """

    _name = "logistics.sync.shipment.milestone"
    _description = "Logistics Sync Tracking Milestone"
    _order = "occurred_at desc, id desc"
    _rec_name = "milestone"

    shipment_id = fields.Many2one(
        "logistics.sync.shipment", required=True, ondelete="cascade", index=True
    )
    picking_id = fields.Many2one(related="shipment_id.picking_id", store=True, index=True)
    company_id = fields.Many2one(related="shipment_id.company_id", store=True)
    package_id = fields.Many2one("logistics.sync.shipment.package", ondelete="cascade")
    milestone = fields.Selection(MILESTONES, required=True, index=True)
    code = fields.Char(string="Carrier code", help="The code exactly as the carrier sent it.")
    occurred_at = fields.Datetime(required=True, index=True)
    location = fields.Char(string="Place")
    latitude = fields.Float(digits=(10, 6))
    longitude = fields.Float(digits=(10, 6))
    reason = fields.Char(help="Why, for a failed delivery or an exception.")
    source = fields.Selection(
        [
            ("odoo", "Odoo"),
            ("webhook", "Carrier webhook"),
            ("amqp", "Carrier message queue"),
            ("poll", "Tracking poll"),
        ],
        required=True,
    )
    raw = fields.Json(string="Raw event", help="The event as the carrier sent it.")
    dedup_key = fields.Char(required=True, readonly=True)

    _sql_constraints = [
        (
            "milestone_unique",
            "UNIQUE(shipment_id, dedup_key)",
            "This tracking event is already recorded.",
        )
    ]

    @api.model
    def _insert(self, shipment, package, event, source):
        """Store ``event`` unless already stored; return the new milestone (or nothing)."""
        occurred = fields.Datetime.to_string(event["occurred_at"])
        key = hashlib.sha1(f"{package.reference or ''}|{event['code']}|{occurred}".encode())
        self.env.cr.execute(
            """
            INSERT INTO logistics_sync_shipment_milestone
                (shipment_id, picking_id, company_id, package_id, milestone, code, occurred_at,
                 location, latitude, longitude, reason, source, raw, dedup_key,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%(shipment)s, %(picking)s, %(company)s, %(package)s, %(milestone)s,
                    %(code)s, %(occurred)s, %(location)s, %(latitude)s, %(longitude)s,
                    %(reason)s, %(source)s, %(raw)s, %(key)s,
                    %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC')
            ON CONFLICT (shipment_id, dedup_key) DO NOTHING
            RETURNING id
            """,
            {
                "shipment": shipment.id,
                "picking": shipment.picking_id.id,
                "company": shipment.company_id.id or None,
                "package": package.id or None,
                "milestone": event["milestone"],
                "code": event["code"],
                "occurred": occurred,
                "location": event.get("location") or None,
                "latitude": event.get("latitude"),
                "longitude": event.get("longitude"),
                "reason": event.get("reason") or None,
                "source": source,
                "raw": self._fields["raw"].convert_to_column(event.get("raw"), self),
                "key": key.hexdigest(),
                "uid": self.env.uid,
            },
        )
        row = self.env.cr.fetchone()
        shipment.invalidate_recordset(["milestone_ids"])
        return self.browse(row[0] if row else [])
