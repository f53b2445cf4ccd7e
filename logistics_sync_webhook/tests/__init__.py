from . import test_signing
from . import test_http_client
from . import test_delivery
from . import test_keys_replay
from . import test_amqp
from . import test_delivery_rules
from . import test_inbound
from . import test_delivery_unit
