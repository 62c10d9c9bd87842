"""The production server behind `voortgang serve`: gunicorn's processes, waitress's buffering.

gunicorn's master (the arbiter) binds the address, starts the worker processes, restarts
one that dies and stops them gracefully. Each worker serves with waitress, which reads a
whole request (headers and body) in its event loop before a thread sees it, and writes
the reply out from the same loop. A client that connects and sends nothing, or trickles
its headers, or reads its reply slowly, holds a buffer, never a thread: no proxy is needed
in front for slow or idle clients (gunicorn's own sync workers are documented to need
one). Measured in docs/performance.md; tested in tests/test_serving.py.

By default a worker has no extra thread: its event loop runs each buffered request itself
(InlineTasks), between its rounds of reading and writing. The app's requests are short and
CPU-bound, so threads in one process would mostly wait for Python's GIL and hand requests
to each other; processes share no GIL. With `--threads N` above 1, waitress's own pool of
N threads runs the requests instead.
"""
from __future__ import annotations

import collections
import logging
import os
import re
import sys
import time

from gunicorn.workers.base import Worker
from waitress import wasyncore
from waitress.server import create_server

ACCESS_LOG = logging.getLogger("voortgang.access")
# One-time links carry their secret in the path: the access log shows the path without it.
SECRET_PATH = re.compile(r"^/(setup|password)/[^/]+")
# Open connections per worker process, idle ones included (waitress's default is 100).
CONNECTION_LIMIT = 1000
MAX_BODY_BYTES = 8 * 2**20
# A connection with no request under way is closed after this many seconds.
IDLE_SECONDS = 60


class InlineTasks:
    """waitress's task dispatcher without threads: the event loop runs the queued requests.

    waitress hands a connection with a complete request to `add_task`; `run_pending`, called
    by the loop between rounds of I/O, serves them (`channel.service()` writes the reply
    into the connection's buffer, which the loop sends). A reply never waits for the client
    to read it: the buffer's high watermark is set out of reach, so waitress's writer never
    blocks for the loop (which would be waiting for itself); large replies go to a
    temporary file (outbuf_overflow), as in waitress with threads.
    """

    def __init__(self) -> None:
        self.queue: collections.deque = collections.deque()

    def add_task(self, task) -> None:
        self.queue.append(task)

    def run_pending(self) -> None:
        for _ in range(len(self.queue)):  # those waiting now; newer ones after the next I/O
            task = self.queue.popleft()
            try:
                task.service()
            except Exception:  # waitress's threads log and carry on in the same way
                logging.getLogger("waitress").exception("Exception when servicing %r", task)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        while self.queue:
            self.queue.popleft().cancel()
        return True


class WaitressWorker(Worker):
    """A gunicorn worker process that serves its share of the listening sockets with waitress."""

    def run(self) -> None:
        loop_map: dict = {}
        inline = InlineTasks() if self.cfg.threads == 1 else None
        server = create_server(
            self.wsgi,
            map=loop_map,
            _dispatcher=inline,  # None: waitress's thread pool
            sockets=[listener.sock for listener in self.sockets],
            threads=self.cfg.threads,
            outbuf_high_watermark=2**62 if inline else 16 * 2**20,
            connection_limit=CONNECTION_LIMIT,
            # A hard cap before anything is buffered; the app refuses more than its own
            # MAX_CONTENT_LENGTH (413, translated) once the request reaches it.
            max_request_body_size=MAX_BODY_BYTES,
            channel_timeout=IDLE_SECONDS,
            cleanup_interval=10,
            asyncore_use_poll=True,  # select() cannot watch more than 1024 descriptors
            ident="",  # no Server header
            expose_tracebacks=False,
        )
        self.inline = inline
        parent = self.ppid
        last_notified = 0.0
        while self.alive:
            now = time.monotonic()
            if now - last_notified >= 1:
                self.notify()
                last_notified = now
            self._round(loop_map, 1.0)
            if os.getppid() != parent:
                self.log.info("Parent changed, shutting down: %s", self)
                break
        self._drain(loop_map)
        server.close()

    def _round(self, loop_map: dict, timeout: float) -> None:
        """One round of I/O (reading requests, sending replies), then the requests that are complete."""
        if self.inline is not None and self.inline.queue:
            timeout = 0
        wasyncore.loop(timeout=timeout, map=loop_map, use_poll=True, count=1)
        if self.inline is not None:
            self.inline.run_pending()

    def _drain(self, loop_map: dict) -> None:
        """Stop accepting; finish the requests under way and send their replies."""
        for channel in list(loop_map.values()):
            if getattr(channel, "accepting", False):
                channel.del_channel()
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while time.monotonic() < deadline and any(_busy(channel) for channel in list(loop_map.values())):
            self.notify()
            self._round(loop_map, 0.2)


def _busy(channel) -> bool:
    return bool(getattr(channel, "requests", None)) or bool(getattr(channel, "total_outbufs_len", 0))


class AccessLog:
    """WSGI middleware: one line per request, in the Combined Log Format, secrets left out."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        started = time.time()
        status_code = ["-"]

        def logging_start_response(status, headers, exc_info=None):
            status_code[0] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        body = self.app(environ, logging_start_response)
        size = 0
        try:
            for chunk in body:
                size += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            ACCESS_LOG.info(access_line(environ, status_code[0], size, started))


def access_line(environ, status: str, size: int, started: float) -> str:
    path = SECRET_PATH.sub(r"/\1/[secret]", environ.get("PATH_INFO", ""))
    query = environ.get("QUERY_STRING")
    request_line = f'{environ.get("REQUEST_METHOD", "-")} {path}{"?" + query if query else ""} {environ.get("SERVER_PROTOCOL", "-")}'
    when = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(started))
    return (f'{environ.get("REMOTE_ADDR", "-")} - - [{when}] "{_quoted(request_line)}" {status} {size} '
            f'"{_quoted(environ.get("HTTP_REFERER", "-"))}" "{_quoted(environ.get("HTTP_USER_AGENT", "-"))}"')


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _log_to_stdout() -> None:
    # waitress warns on every request that waits for a free thread: normal here, where
    # requests queue for the worker's one thread while its event loop buffers them.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ACCESS_LOG.addHandler(handler)
    ACCESS_LOG.setLevel(logging.INFO)
    ACCESS_LOG.propagate = False


def run_server(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app (`create_app` is called in each worker process) until stopped."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            settings = {
                "bind": bind,
                "workers": workers,
                "threads": threads,
                "worker_class": WaitressWorker,
                # A worker whose event loop stops for this long is replaced.
                "timeout": 60,
                "graceful_timeout": 20,
                # No control socket in $HOME: several servers may run side by side.
                "control_socket_disable": True,
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            from . import create_app, mail

            app = create_app()
            if app.config.get("SMTP_HOST"):
                mail.courier(app).wake()  # deliver what is still in the outbox from before
            return AccessLog(app)

    _log_to_stdout()
    Server().run()
