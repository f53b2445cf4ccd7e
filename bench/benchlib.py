"""What the benchmarks share: a free local port and an Odoo server of their own."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import requests


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def odoo_server(config, database, log_path, job_runner=True, channels=None):
    """Run ``python -m odoo`` on ``database`` on a free port until the block ends; yield its
    base URL once it answers. ``job_runner=False`` runs no queue_job job (channels root:0);
    ``channels`` sets the runner's channels instead of the configuration file's (e.g.
    ``"root:8"``). The runner reads both from the environment before the file."""
    port = free_port()
    env = dict(os.environ)
    if not job_runner:
        env["ODOO_QUEUE_JOB_CHANNELS"] = "root:0"
    elif channels:
        env["ODOO_QUEUE_JOB_CHANNELS"] = channels
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "odoo",
            "-c",
            config,
            "-d",
            database,
            f"--http-port={port}",
            f"--db-filter=^{database}$",
            "--log-level=warn",
            f"--logfile={log_path}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _attempt in range(120):
            try:
                requests.get(f"{base}/web/health", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(30)
