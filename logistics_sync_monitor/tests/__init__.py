from . import test_exception
from . import test_sla
from . import test_console
from . import test_metrics
from . import test_dashboard
from . import test_tour
