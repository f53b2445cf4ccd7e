"""Errors a carrier protocol raises, whatever the protocol. ``reason`` is safe to show."""


class CarrierError(Exception):
    """Base class; ``reason`` is the carrier's (or our) explanation, ``status`` its HTTP
    status when there is one."""

    def __init__(self, reason, status=None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class CarrierRejected(CarrierError):
    """The carrier refused the request (unserved address, unknown service, too late to
    cancel...). Permanent."""


class CarrierConfigError(CarrierError):
    """The carrier refused our credentials, the address is not allowed, or something is
    missing in Odoo's configuration. Permanent until a person fixes it."""


class CarrierUnavailable(CarrierError):
    """The carrier did not answer usefully this time (timeout, 5xx, 429); ``retry_after``
    is the delay it asked for, in seconds, if any."""

    def __init__(self, reason, status=None, retry_after=None):
        super().__init__(reason, status)
        self.retry_after = retry_after
