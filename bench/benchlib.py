"""What the benchmarks share: a free local port and an Odoo server of their own."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager

import requests


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def odoo_server(
    config,
    database,
    log_path,
    job_runner=True,
    channels=None,
    workers=0,
    extra_args=(),
    nice=0,
    db_filter=False,
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
    or systemd's ``Nice=`` would; ``nice="idle"`` runs them under Linux's ``SCHED_IDLE``
    policy instead (``chrt --idle 0``, systemd's ``CPUSchedulingPolicy=idle``): they get a
    core only when no other process wants it.

    The server serves ``database`` alone, named by ``-d`` and no ``dbfilter``: Odoo then
    answers a request without a session (the runner's, a partner's) with no list of the
    databases; with ``db_filter`` it is also given ``--db-filter=^database$``, and lists them
    on a new PostgreSQL connection at each such request (``./dev bench db_filter``)."""
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
    if db_filter:
        options.append(f"--db-filter=^{database}$")
    server = subprocess.Popen(
        [
            *(
                ["chrt", "--idle", "0"]
                if nice == "idle"
                else (["nice", "-n", str(nice)] if nice else [])
            ),
            sys.executable,
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "odoo_serve.py"),
            "-c",
            config,
            "-d",
            database,
            f"--http-port={port}",
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


def emit_events(events_model, type_code, emissions, one_by_one=False):
    """Write ``emissions`` ((record, payload) pairs) as ``type_code`` events in the current
    transaction: one ``_emit_many``, as the business hooks write a batch's events, or an
    ``_emit`` per event (``one_by_one``), as they did before."""
    if one_by_one:
        for record, payload in emissions:
            events_model._emit(type_code, record, payload)
    else:
        events_model._emit_many(type_code, emissions)


def percentile(values, share):
    """The value below which ``share`` (0 to 1) of ``values`` lie (0.0 for none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def hammer(make_request, count, threads):
    """Send ``count`` requests from ``threads`` sessions; return (seconds, latencies, codes)."""
    latencies, codes, lock = [], Counter(), threading.Lock()
    per_thread = count // threads

    def worker(index):
        session = requests.Session()
        local_lat, local_codes = [], Counter()
        for number in range(per_thread):
            start = time.perf_counter()
            status = make_request(session, index * per_thread + number)
            local_lat.append(time.perf_counter() - start)
            local_codes[status] += 1
        with lock:
            latencies.extend(local_lat)
            codes.update(local_codes)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    start = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return time.perf_counter() - start, latencies, codes


def _processes():
    """{pid: (CPU seconds used so far, user + system; command line)} of this machine's
    processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        found[int(name)] = ((int(fields[11]) + int(fields[12])) / ticks, command)
    return found


def _cpu_seconds():
    """The machine's CPU time so far, all CPUs, in seconds, as /proc/stat counts it: user,
    nice, system, idle, iowait, irq, softirq, steal."""
    with open("/proc/stat") as stat:
        ticks = stat.readline().split()[1:9]
    return [int(tick) / os.sysconf("SC_CLK_TCK") for tick in ticks]


def machine_cpu():
    """CPU seconds all processes of this machine used so far: user, nice, system, irq and
    softirq time (not idle, iowait or what the hypervisor stole)."""
    user, nice, system, _idle, _iowait, irq, softirq, _steal = _cpu_seconds()
    return user + nice + system + irq + softirq


def _steal():
    """CPU seconds the hypervisor gave to other machines while this one's CPUs wanted them
    (``steal`` in /proc/stat, all CPUs)."""
    return _cpu_seconds()[7]


class CpuMeter:
    """CPU seconds the machine's processes used during a ``with`` block, by group: each named
    process (``servers``: a name -> a string of its command line, e.g. an Odoo server's log
    file, as a server's workers share its command line; or -> a pid) and its PostgreSQL
    backends (``backends()`` -> {backend pid: application_name}; Odoo names its connections
    ``odoo-<pid>``), PostgreSQL's autovacuum, the rest of PostgreSQL, and everything else;
    and the CPU time the hypervisor stole. A process that starts and ends inside the block
    is not seen."""

    def __init__(self, servers, backends):
        self.servers, self.backends = servers, backends
        self.used = {}

    def __enter__(self):
        self.start, self.start_steal = _processes(), _steal()
        return self

    def __exit__(self, *_exc):
        end = _processes()
        self.steal = _steal() - self.start_steal
        applications = self.backends()
        # a pid names its process before any command line does (a forked helper shares
        # its parent's)
        owners = {mark: name for name, mark in self.servers.items() if isinstance(mark, int)}
        for pid, (_seconds, command) in end.items():
            for name, mark in self.servers.items():
                if pid not in owners and isinstance(mark, str) and mark in command:
                    owners[pid] = name
        used = {}
        for pid, (seconds, command) in end.items():
            spent = seconds - self.start.get(pid, (0.0, ""))[0]
            if spent <= 0:
                continue
            if pid in owners:
                group = owners[pid]
            elif command.startswith("postgres: autovacuum"):
                group = "PostgreSQL autovacuum"
            elif command.startswith("postgres"):
                application = applications.get(pid, "")
                owner = application.removeprefix("odoo-")
                owner = owners.get(int(owner)) if owner.isdigit() else None
                group = f"PostgreSQL for {owner}" if owner else "PostgreSQL other"
            else:
                group = "other processes"
            used[group] = used.get(group, 0.0) + spent
        self.used = used

    def summary(self, top=8):
        """The largest groups: ``users' server 50.1 s, PostgreSQL for users' server 16.0 s``."""
        ranked = sorted(self.used.items(), key=lambda item: -item[1])[:top]
        used = ", ".join(f"{group} {seconds:.1f} s" for group, seconds in ranked)
        return f"{used}; stolen by the hypervisor {self.steal:.1f} s"
