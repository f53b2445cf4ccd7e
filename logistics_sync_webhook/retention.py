"""Retention periods: delete what is older than a system parameter says, in small batches.

Each call deletes one batch (at most :data:`PURGE_BATCH` rows, oldest first) of the rows no
other transaction holds (``FOR UPDATE SKIP LOCKED``: a purge never waits for, nor blocks, a
user or a job working on a row) and reports its progress to the running cron. Odoo's cron
runner then commits and calls again while rows remain (10 batches per run, then it runs
again as soon as possible), so each transaction is short and holds few locks.
"""

from datetime import timedelta

from odoo import fields
from odoo.tools import SQL

#: Rows deleted per transaction.
PURGE_BATCH = 1000


def purge(
    model, param, default, unit="days", domain=(), batch=PURGE_BATCH, date_field="create_date"
):
    """Delete one batch of the ``model`` records whose ``date_field`` is older than the
    period in system parameter ``param`` (``default`` if unset; ``unit`` is days or hours;
    0 or less keeps them), among those matching ``domain``; return how many were deleted.
    Called from a cron, it tells the cron how many remain, so the cron commits and goes on.
    """
    period = int(model.env["ir.config_parameter"].sudo().get_param(param, default))
    if period <= 0:
        return 0
    cutoff = fields.Datetime.now() - timedelta(**{unit: period})
    model = model.sudo()
    old = [*domain, (date_field, "<", cutoff)]
    query = model._search(old, order="id", limit=batch)
    model.env.cr.execute(
        SQL("%s FOR UPDATE OF %s SKIP LOCKED", query.select(), SQL.identifier(model._table))
    )
    records = model.browse(row[0] for row in model.env.cr.fetchall())
    records.unlink()
    remaining = model.search_count(old, limit=100 * batch) if len(records) == batch else 0
    model.env["ir.cron"]._notify_progress(done=len(records), remaining=remaining)
    return len(records)
