from . import logistics_sync_system_files
from . import logistics_sync_file_format
from . import logistics_sync_file_column
from . import logistics_sync_file_exchange
from . import logistics_sync_flow
from . import logistics_sync_message
