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
def odoo_server(
    config, database, log_path, job_runner=True, channels=None, workers=0, extra_args=(), nice=0
):
    """Run Odoo (``odoo_serve.py``) on ``database`` on a free port until the block ends; yield its
    base URL once it answers. ``job_runner=False`` runs no queue_job job (channels root:0);
    ``channels`` sets the runner's channels instead of the configuration file's (e.g.
    ``"root:8"``). The runner reads both from the environment before the file.

    ``workers`` > 0 runs Odoo's prefork server with that many HTTP worker processes (and
    one cron worker); the queue_job runner is then a process of its own. ``job_runner=None``
    leaves queue_job out of the server-wide modules: a second server on the same database
    serving users while another one runs the jobs. ``nice`` > 0 lowers the CPU priority of
    the server and every process it starts (workers, cron worker, runner), as ``nice -n``
    or systemd's ``Nice=`` would."""
    port = free_port()
    env = dict(os.environ)
    if job_runner is False:
        env["ODOO_QUEUE_JOB_CHANNELS"] = "root:0"
    elif channels:
        env["ODOO_QUEUE_JOB_CHANNELS"] = channels
    options = list(extra_args)
    if workers:
        # the prefork server also opens a long-polling port: a free one, not 8072
        options += [f"--workers={workers}", "--max-cron-threads=1", f"--gevent-port={free_port()}"]
    if job_runner is None:
        options.append("--load=base,web")
    server = subprocess.Popen(
        [
            *(["nice", "-n", str(nice)] if nice else []),
            sys.executable,
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "odoo_serve.py"),
            "-c",
            config,
            "-d",
            database,
            f"--http-port={port}",
            f"--db-filter=^{database}$",
            "--log-level=warn",
            f"--logfile={log_path}",
            *options,
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
