"""Copied next to the addon links by ``./dev test``: records every WARNING or worse that is
logged during the test run, so the run can fail on stray warnings (expected ones are muted in
the tests with ``mute_logger``)."""

import logging
import os

_path = os.environ.get("LOGISTICS_SYNC_TEST_LOG")
if _path:
    _handler = logging.FileHandler(_path)
    _handler.setLevel(logging.WARNING)
    _handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    )
    logging.getLogger().addHandler(_handler)
