from odoo import api, models

from odoo.addons.logistics_sync_core.models.logistics_sync_saga import CHANNEL
from odoo.addons.logistics_sync_core.saga import Step, Workflow

#: Book -> fetch the labels -> put them on the transfer -> announce shipment.booked. Each step
#: is idempotent (the carrier books once per reference; labels fetched once per package).
BOOKING = Workflow(
    code="carrier_booking",
    name="Carrier booking",
    steps=[
        Step("book", "_carrier_booking_book", "_carrier_booking_unbook", max_attempts=6),
        Step(
            "fetch_labels",
            "_carrier_booking_fetch_labels",
            "_carrier_booking_drop_labels",
            max_attempts=6,
        ),
        Step("attach_labels", "_carrier_booking_attach_labels", "_carrier_booking_detach_labels"),
        Step("announce", "_carrier_booking_announce"),
    ],
    on_compensated="_carrier_booking_compensated",
    on_failed="_carrier_booking_stuck",
)

#: Cancel at the carrier with retries; a refusal ends the run compensated (nothing to undo).
CANCELLATION = Workflow(
    code="carrier_cancellation",
    name="Carrier cancellation",
    steps=[Step("cancel", "_carrier_cancellation_cancel", max_attempts=8)],
    on_done="_carrier_cancellation_done",
    on_compensated="_carrier_cancellation_refused",
)


class LogisticsSyncSaga(models.Model):
    _inherit = "logistics.sync.saga"

    @api.model
    def _get_workflows(self):
        workflows = super()._get_workflows()
        workflows[BOOKING.code] = BOOKING
        workflows[CANCELLATION.code] = CANCELLATION
        return workflows

    def _job_channel(self):
        # one sub-channel per carrier: a slow carrier holds only its own bookings
        if self.workflow in (BOOKING.code, CANCELLATION.code):
            return f"{CHANNEL}.{self._carrier_shipment().system_id.code}"
        return super()._job_channel()

    def _carrier_shipment(self):
        self.ensure_one()
        return self.env["logistics.sync.shipment"].sudo().browse(self.res_id)

    def _carrier_booking_book(self):
        return self._carrier_shipment()._step_book()

    def _carrier_booking_unbook(self):
        return self._carrier_shipment()._step_unbook()

    def _carrier_booking_fetch_labels(self):
        return self._carrier_shipment()._step_fetch_labels()

    def _carrier_booking_drop_labels(self):
        return self._carrier_shipment()._step_drop_labels()

    def _carrier_booking_attach_labels(self):
        return self._carrier_shipment()._step_attach_labels()

    def _carrier_booking_detach_labels(self):
        return self._carrier_shipment()._step_detach_labels()

    def _carrier_booking_announce(self):
        return self._carrier_shipment()._step_announce()

    def _carrier_booking_compensated(self):
        return self._carrier_shipment()._booking_compensated()

    def _carrier_booking_stuck(self):
        return self._carrier_shipment()._booking_stuck()

    def _carrier_cancellation_cancel(self):
        return self._carrier_shipment()._step_cancel()

    def _carrier_cancellation_done(self):
        return self._carrier_shipment()._cancellation_done()

    def _carrier_cancellation_refused(self):
        return self._carrier_shipment()._cancellation_refused()
