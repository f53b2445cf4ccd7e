from . import logistics_sync_flow
from . import logistics_sync_signing_key
from . import logistics_sync_message
from . import logistics_sync_message_attempt
from . import logistics_sync_system
from . import logistics_sync_inbound_message
from . import stock_picking
