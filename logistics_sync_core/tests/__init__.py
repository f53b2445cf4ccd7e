from . import test_crypto_payload
from . import test_outbox
from . import test_outbox_commit
from . import test_xref
from . import test_code_map_ownership
from . import test_flow
from . import test_saga
from . import test_secret_security
