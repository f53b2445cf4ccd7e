from . import logistics_sync_replay_wizard
