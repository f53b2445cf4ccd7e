from . import logistics_sync_flow
from . import logistics_sync_signing_key
from . import logistics_sync_message
from . import logistics_sync_message_attempt
