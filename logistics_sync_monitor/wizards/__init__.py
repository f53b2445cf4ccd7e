from . import logistics_sync_replay_wizard
from . import logistics_sync_exception_dismiss_wizard
