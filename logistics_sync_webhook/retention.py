"""Retention periods: delete what is older than a system parameter says."""

from datetime import timedelta

from odoo import fields

#: Records deleted per cron run at most; the next run goes on.
PURGE_BATCH = 10000


def purge(model, param, default, unit="days", domain=(), batch=PURGE_BATCH):
    """Delete the ``model`` records created more than the period in system parameter
    ``param`` ago (``default`` if unset; ``unit`` is days or hours; 0 or less keeps them),
    oldest first, at most ``batch``, among those matching ``domain``. Return how many."""
    period = int(model.env["ir.config_parameter"].sudo().get_param(param, default))
    if period <= 0:
        return 0
    cutoff = fields.Datetime.now() - timedelta(**{unit: period})
    old = model.sudo().search([*domain, ("create_date", "<", cutoff)], limit=batch, order="id")
    old.unlink()
    return len(old)
