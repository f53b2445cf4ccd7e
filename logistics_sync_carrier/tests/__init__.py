from . import test_booking
from . import test_tracking
from . import test_api_shipments
