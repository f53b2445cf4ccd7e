"""A real HTTP receiver on 127.0.0.1 for delivery tests: answers each path with a scripted
sequence of behaviours and records every request it got."""

import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a sender that gave up or died mid-request (timeouts, killed workers) is expected
        if isinstance(sys.exc_info()[1], ConnectionError):
            return None
        return super().handle_error(request, client_address)


class Receiver:
    """``script[path]`` is a list of behaviours, consumed in order (the last one repeats):
    an int status, ``(status, headers)``, ``"hang"`` (no answer for ``hang_seconds``) or
    ``"drop"`` (close the connection without answering). ``fault``, when set to one such
    behaviour, answers every request that way instead (a partner flapping, e.g. in
    bench/chaos.py). Each recorded request carries the ``status`` it was answered with
    (None when it was hung up or dropped) and the ``time`` it arrived."""

    def __init__(self, hang_seconds=5, port=0):
        self.script = {}
        self.fault = None
        self.requests = []
        self.hang_seconds = hang_seconds
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                result = super().setup()
                # headers and body go out in two writes: without this, Nagle's algorithm
                # and the client's delayed ACK add 40 ms to every kept-alive request
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return result

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:
                    return  # the sender died mid-request: nothing arrived
                entry = {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body,
                    "time": time.time(),
                }
                with receiver.lock:
                    receiver.requests.append(entry)
                    steps = receiver.script.get(self.path, [200])
                    step = steps.pop(0) if len(steps) > 1 else steps[0]
                    if receiver.fault is not None:
                        step = receiver.fault
                    entry["status"] = step[0] if isinstance(step, tuple) else step
                if step == "hang":
                    entry["status"] = None
                    time.sleep(receiver.hang_seconds)
                    return
                if step == "drop":
                    entry["status"] = None
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, headers = step if isinstance(step, tuple) else (step, {})
                answer = b'{"ok": true}' if status < 300 else b'{"error": "scripted"}'
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = _Server(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def received(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]
