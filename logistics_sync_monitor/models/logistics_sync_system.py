from odoo import api, fields, models
from odoo.exceptions import ValidationError


class LogisticsSyncSystem(models.Model):
    """Where a carrier's milestone SLAs and transit statistics are configured."""

    _inherit = "logistics.sync.system"

    monitor_sla_booking_minutes = fields.Integer(
        string="Booked within (minutes of validation)",
        default=60,
        help="SLA: a transfer validated with one of this carrier's shipping methods must be "
        "booked within this delay. 0: no SLA.",
    )
    monitor_sla_pod_hours = fields.Integer(
        string="Proof of delivery within (hours of delivery)",
        default=48,
        help="SLA: a delivered shipment must have its proof of delivery within this delay "
        "(the per-shipment 'POD late' flag uses the carrier's own, usually shorter, delay). "
        "0: no SLA.",
    )
    monitor_sla_scan_hours = fields.Integer(
        string="Tracking scan at least every (hours)",
        default=48,
        help="SLA: a booked shipment not yet delivered or returned must get a tracking scan "
        "at least this often. Also the silent-shipment threshold of a lane whose history is "
        "too thin to learn its usual gap between scans. 0: no SLA.",
    )
    monitor_sla_wms_minutes = fields.Integer(
        string="Confirmed within (minutes of the request)",
        default=240,
        help="SLA for a WMS or 3PL: a fulfilment request must get its first pick, pack or "
        "ship confirmation within this delay (a reservation report is no confirmation). "
        "0: no SLA.",
    )
    monitor_anomaly_k = fields.Float(
        string="Slow shipment threshold (k)",
        default=3.0,
        digits=(4, 2),
        help="A shipment in transit longer than its lane's median + k × MAD of the transit "
        "times is flagged as slow; one without a tracking scan for longer than its lane's "
        "median + k × MAD of the gaps between scans is flagged as silent. k multiplies the "
        "raw MAD (median absolute deviation from the median), not scaled by 1.4826 into a "
        "standard deviation: transit times and scan gaps are skewed, not normal. For normal "
        "data k = 3 would be about 2 standard deviations.",
    )
    monitor_anomaly_min_sample = fields.Integer(
        string="Minimum history per lane",
        default=10,
        help="No slow-shipment flag and no ETA prediction for a lane with fewer delivered "
        "shipments than this in the history window; the gaps between scans of fewer "
        "shipments do not set a lane's usual gap either (the 'scan at least every' hours "
        "apply instead).",
    )
    monitor_history_days = fields.Integer(
        string="Transit history (days)",
        default=90,
        help="Delivered shipments of the last days that make a lane's transit and "
        "scan-gap statistics.",
    )

    @api.constrains(
        "monitor_sla_booking_minutes",
        "monitor_sla_pod_hours",
        "monitor_sla_scan_hours",
        "monitor_sla_wms_minutes",
        "monitor_anomaly_k",
        "monitor_anomaly_min_sample",
        "monitor_history_days",
    )
    def _check_monitor_settings(self):
        for system in self:
            if (
                min(
                    system.monitor_sla_booking_minutes,
                    system.monitor_sla_pod_hours,
                    system.monitor_sla_scan_hours,
                )
                < 0
            ):
                raise ValidationError(self.env._("An SLA delay cannot be negative."))
            if system.monitor_anomaly_k <= 0 or system.monitor_anomaly_min_sample < 2:
                raise ValidationError(
                    self.env._("k must be positive and the minimum history at least 2.")
                )
            if system.monitor_history_days < 1:
                raise ValidationError(self.env._("The transit history needs at least one day."))
