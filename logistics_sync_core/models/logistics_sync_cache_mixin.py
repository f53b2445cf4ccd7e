from odoo import api, models


class LogisticsSyncCacheMixin(models.AbstractModel):
    """For models whose rows feed ormcached lookups (event types, credentials): any change
    clears the registry cache, in this worker and, once committed, in the others."""

    _name = "logistics.sync.cache.mixin"
    _description = "Logistics Sync Cached Lookups"

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
