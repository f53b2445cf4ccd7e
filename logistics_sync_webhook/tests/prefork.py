"""A real prefork Odoo server (``--workers=N``) on the test database, for promises only
several worker processes can show (a limit counted across workers)."""

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import requests

from odoo.tools import config

# Odoo's log line of a request Werkzeug served: "<date> <time> <pid> INFO <db> werkzeug:
# 127.0.0.1 - - [...] "POST /path HTTP/1.1" 429 - ..."
_REQUEST_LINE = re.compile(
    r'^\S+ \S+ (\d+) INFO \S+ werkzeug: .*"(\w+) (\S+) HTTP/[\d.]+" (\d{3}) '
)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def prefork_server(database, log_path, workers=4, timeout=180):
    """Run ``odoo --workers=<workers>`` on ``database`` (the test configuration, no cron
    thread, no job run) on free 127.0.0.1 ports until the block ends; yield its base URL
    once every worker answers a request. ``-d`` alone, no ``dbfilter``, as the benchmarks'
    servers: a filter makes Odoo list the databases at each request without a session."""
    port = free_port()
    env = dict(os.environ, ODOO_QUEUE_JOB_CHANNELS="root:0")
    command = [
        sys.executable,
        "-m",
        "odoo",
        "-c",
        config.rcfile,
        "-d",
        database,
        f"--workers={workers}",
        "--max-cron-threads=0",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        f"--gevent-port={free_port()}",
        "--log-level=info",
        f"--logfile={log_path}",
    ]
    server = subprocess.Popen(
        command,
        cwd=os.path.dirname(config.rcfile),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(
                    f"the prefork server exited ({server.returncode}); see {log_path}"
                )
            try:
                requests.get(f"{base}/web/health", timeout=5)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def served_requests(log_path, path_prefix):
    """``[(worker pid, method, path, status)]`` of the requests under ``path_prefix`` the
    server's log lists."""
    with open(log_path, encoding="utf-8", errors="replace") as log:
        matches = (_REQUEST_LINE.match(line) for line in log)
        return [
            (int(m[1]), m[2], m[3], int(m[4]))
            for m in matches
            if m and m[3].startswith(path_prefix)
        ]
