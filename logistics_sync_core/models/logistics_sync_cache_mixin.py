from odoo import api, models


class LogisticsSyncCacheMixin(models.AbstractModel):
    """For models whose rows feed ormcached lookups (event types, credentials): any change
    clears the registry cache, in this worker and, once committed, in the others; in this
    worker again after the commit, as another thread may have filled it from the row as it
    was before."""

    _name = "logistics.sync.cache.mixin"
    _description = "Logistics Sync Cached Lookups"

    @api.model_create_multi
    def create(self, vals_list):
        self._clear_lookup_cache()
        return super().create(vals_list)

    def write(self, vals):
        self._clear_lookup_cache()
        return super().write(vals)

    def unlink(self):
        self._clear_lookup_cache()
        return super().unlink()

    def _clear_lookup_cache(self):
        self.env.registry.clear_cache()
        self.env.cr.postcommit.add(self.env.registry.clear_cache)
