"""Serve the production app plus a bare `GET /__bench/hello`, exactly as `voortgang serve` does.

Run as `python -m bench.hello --port P [--workers W] [--threads T] [--diagnose]` with the
same VOORTGANG_* environment as the app. The gunicorn settings are not copied: this calls
`voortgang.server.run_server` itself, whose worker loader imports `create_app` from the
`voortgang` package when each worker starts; pointing that name at `create_bench_app`
first is what adds the hello route, so the app package itself never has it.

With --diagnose every worker also counts, per kind of request, the time spent in the app,
in SQL, waiting for SQLite's write lock (the lock file, then `BEGIN IMMEDIATE`) and holding it, in memory
shared by all workers; `GET /__bench/diagnose[?reset=1]` returns the totals as JSON.
"""
from __future__ import annotations

import argparse
import multiprocessing
import re
import threading
import time

import voortgang
from voortgang import cli, server

HELLO_PATH = "/__bench/hello"
DIAGNOSE_PATH = "/__bench/diagnose"
KINDS = ("hello", "poll", "save", "presence", "other")
FIELDS = ("requests", "app_s", "app_cpu_s", "sql_s", "transactions", "lock_wait_s", "lock_hold_s")
_create_app = voortgang.create_app
_shared = None  # created by the master before it forks the workers


def kind_of(path: str) -> str:
    if path == HELLO_PATH:
        return "hello"
    if path.endswith("/updates"):
        return "poll"
    if re.search(r"/answers/\d+$", path):
        return "save"
    if path.endswith("/presence"):
        return "presence"
    return "other"


def create_bench_app(test_config=None):
    """The real app with one extra route: the baseline for throughput comparisons."""
    app = _create_app(test_config)

    @app.get(HELLO_PATH)
    def bench_hello():
        return "hello"

    if _shared is not None:
        _instrument(app)
    return app


def _instrument(app) -> None:
    from flask import jsonify, request
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    local = threading.local()
    width = len(FIELDS)

    def add(field: str, value: float) -> None:
        index = KINDS.index(getattr(local, "kind", "other")) * width + FIELDS.index(field)
        with _shared.get_lock():
            _shared[index] += value

    @event.listens_for(Engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        local.started = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        now = time.perf_counter()
        if statement.startswith("BEGIN IMMEDIATE"):  # a connection without the lock file
            add("lock_wait_s", now - local.started)
            add("transactions", 1)
            local.held_since = now
        else:
            add("sql_s", now - local.started)

    from voortgang.database import SerialWriteConnection

    begin_immediate = SerialWriteConnection.begin_immediate

    def timed_begin_immediate(connection):  # waits for the lock file, then BEGIN IMMEDIATE
        started = time.perf_counter()
        begin_immediate(connection)
        now = time.perf_counter()
        add("lock_wait_s", now - started)
        add("transactions", 1)
        local.held_since = now

    SerialWriteConnection.begin_immediate = timed_begin_immediate

    def released(conn):
        since = getattr(local, "held_since", None)
        if since is not None:
            add("lock_hold_s", time.perf_counter() - since)
            local.held_since = None

    event.listen(Engine, "commit", released)
    event.listen(Engine, "rollback", released)

    @app.get(DIAGNOSE_PATH)
    def bench_diagnose():
        with _shared.get_lock():
            values = list(_shared)
            if request.args.get("reset"):
                for i in range(len(_shared)):
                    _shared[i] = 0.0
        return jsonify({kind: dict(zip(FIELDS, values[i * width:(i + 1) * width]))
                        for i, kind in enumerate(KINDS)})

    inner = app.wsgi_app

    def timed(environ, start_response):
        local.kind = kind_of(environ.get("PATH_INFO", ""))
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return inner(environ, start_response)  # Flask has finished (teardown included)
        finally:
            add("app_cpu_s", time.thread_time() - cpu)
            add("app_s", time.perf_counter() - started)
            add("requests", 1)

    app.wsgi_app = timed


def main() -> None:
    global _shared
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=cli.default_workers())
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--diagnose", action="store_true", help="count where the time goes")
    args = parser.parse_args()
    if args.diagnose:
        _shared = multiprocessing.Array("d", len(KINDS) * len(FIELDS))
    voortgang.create_app = create_bench_app  # read by run_server's loader in each worker
    server.run_server(args.host, args.port, args.workers, args.threads)


if __name__ == "__main__":
    main()
