import json
import logging
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from odoo.tests import tagged

from odoo.addons.logistics_sync_core.tests.common import CommittedCase

from .inbound_common import API_KEY
from .prefork import prefork_server, served_requests

LIMIT = 5
WINDOW = 3600
REQUESTS = 32

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestRateLimitAcrossWorkers(CommittedCase):
    """The inbound and API key rate limits hold on a real prefork server with 4 worker
    processes: a count per process would let up to 4 times the limit through."""

    def setUp(self):
        super().setUp()
        # one fixed window for the whole test: do not start a few seconds before it ends
        left = WINDOW - time.time() % WINDOW
        if left < 120:
            time.sleep(left + 1)
        suffix = os.urandom(4).hex()
        with self._cursor() as env:
            system = env["logistics.sync.system"].create(
                {
                    "name": "Rate limited carrier",
                    "code": f"rate_{suffix}",
                    "kind": "carrier",
                    "inbound_auth": "api_key",
                    "inbound_rate_limit": LIMIT,
                    "inbound_rate_window": WINDOW,
                }
            )
            self._remember(system)
            self._remember(
                env["logistics.sync.secret"].create(
                    {"system_id": system.id, "name": "inbound_api_key", "value": API_KEY}
                )
            )
            key = env["logistics.sync.api.key"].create(
                {
                    "name": "Rate limited key",
                    "system_id": system.id,
                    "rate_limit": LIMIT,
                    "rate_window": WINDOW,
                    "scope_ids": [
                        (
                            6,
                            0,
                            env["logistics.sync.api.scope"]
                            .search([("code", "=", "events:read")])
                            .ids,
                        )
                    ],
                }
            )
            self.api_secret = key.action_generate()["params"]["message"].rsplit(" ", 1)[-1]
            self.system_id, self.key_id, self.code = system.id, key.id, system.code
        self.addCleanup(self._forget_requests)

    def _forget_requests(self):
        # before the system and key (registered first, so deleted after these)
        with self._cursor() as env:
            env.cr.execute("DELETE FROM logistics_sync_api_call WHERE key_id = %s", (self.key_id,))
            env.cr.execute("DELETE FROM logistics_sync_api_key WHERE id = %s", (self.key_id,))
            env.cr.execute(
                "DELETE FROM logistics_sync_rate_counter WHERE bucket IN %s",
                ((f"inbound:{self.system_id}", f"api:{self.key_id}"),),
            )

    def _burst(self, send):
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(lambda _i: send(), range(REQUESTS)))

    def test_limits_hold_across_four_worker_processes(self):
        database = self.env.cr.dbname
        with tempfile.TemporaryDirectory() as folder:
            log_path = os.path.join(folder, "prefork.log")
            with prefork_server(database, log_path, workers=4) as base:
                inbound_url = f"{base}/logistics_sync/webhook/{self.code}"
                # a valid key and JSON that is no envelope: counted, then refused with 422
                inbound = self._burst(
                    lambda: requests.post(
                        inbound_url,
                        data=b"{}",
                        headers={"Content-Type": "application/json", "X-Api-Key": API_KEY},
                        timeout=60,
                    ).status_code
                )
                api = self._burst(
                    lambda: requests.get(
                        f"{base}/logistics_sync/api/v1/events",
                        headers={"Authorization": f"Bearer {self.api_secret}"},
                        timeout=60,
                    ).status_code
                )
            served = served_requests(log_path, "/logistics_sync/")
        self.assertEqual(sorted(inbound), [422] * LIMIT + [429] * (REQUESTS - LIMIT), inbound)
        self.assertEqual(sorted(api), [200] * LIMIT + [429] * (REQUESTS - LIMIT), api)
        pids = {pid for pid, _method, _path, _status in served}
        self.assertEqual(len(served), 2 * REQUESTS, "the log lists every request")
        self.assertGreaterEqual(len(pids), 2, f"served by worker processes {pids}")
        accepted_by = {pid for pid, _m, _p, status in served if status != 429}
        _logger.info(
            "Rate limits across workers: %s",
            json.dumps(
                {
                    "worker_pids": sorted(pids),
                    "accepted_by": sorted(accepted_by),
                    "inbound": {s: inbound.count(s) for s in set(inbound)},
                    "api": {s: api.count(s) for s in set(api)},
                }
            ),
        )
