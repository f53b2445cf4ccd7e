from . import test_file_formats
from . import test_file_transport
from . import test_file_exchange
from . import test_file_flow
