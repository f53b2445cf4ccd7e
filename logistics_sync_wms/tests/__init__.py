from . import test_file_formats
from . import test_file_transport
from . import test_file_exchange
from . import test_file_flow
from . import test_fulfilment_request
from . import test_confirmation
from . import test_api
from . import test_concurrency
