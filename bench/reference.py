"""The benchmark's yardstick: a bare Flask "hello" on gunicorn's sync workers.

Run as `python -m bench.reference --port P [--workers W]`. It is what `voortgang serve`
was before it served with waitress (docs/performance.md): the same number of processes,
one request at a time each, a new connection per request. Its throughput measures the
machine, not our server or app, so ratios against it stay comparable when the server
changes; the hello route on the production server (bench/hello.py) measures the server.
"""
from __future__ import annotations

import argparse

from flask import Flask
from gunicorn.app.base import BaseApplication

from .hello import HELLO_PATH


def create_reference_app() -> Flask:
    app = Flask(__name__)

    @app.get(HELLO_PATH)
    def hello():
        return "hello"

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="ignored: one request at a time per process")
    parser.add_argument("--diagnose", action="store_true", help="ignored")
    args = parser.parse_args()

    class Reference(BaseApplication):
        def load_config(self):
            for key, value in {"bind": f"{args.host}:{args.port}", "workers": args.workers,
                               "worker_class": "sync", "accesslog": "-", "control_socket_disable": True}.items():
                self.cfg.set(key, value)

        def load(self):
            return create_reference_app()

    Reference().run()


if __name__ == "__main__":
    main()
