"""`voortgang serve` as `make run` starts it, facing idle and slow clients with no proxy in front."""
from __future__ import annotations

import re
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from .servers import Browserish, Server, run_cli, server_env

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery staple"
SLOW_CLIENTS = 120


class SlowClients:
    """Connections that never finish a request: half send nothing, half trickle header lines."""

    def __init__(self, port: int, count: int):
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        self.trickling = self.sockets[count // 2:]
        self.stop = threading.Event()
        self.refused = 0
        self.thread = threading.Thread(target=self._trickle, daemon=True)

    def _trickle(self) -> None:
        for sock in self.trickling:
            sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        line = 0
        while not self.stop.wait(0.5):
            line += 1
            for sock in self.trickling:
                try:
                    sock.sendall(f"X-Slow-{line}: {'a' * 20}\r\n".encode())
                except OSError:
                    self.refused += 1

    def __enter__(self) -> SlowClients:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_signed_in_page_and_autosave_answer_while_120_clients_hang(tmp_path):
    env = server_env(tmp_path)
    run_cli(env, "db", "upgrade")
    run_cli(env, "user", "add", "--email", "mia@example.org", "--name", "Mia", "--locale", "en",
            "--password-stdin", stdin=PASSWORD + "\n")
    run_cli(env, "user", "add", "--email", "eva@example.org", "--name", "Eva", "--locale", "en",
            "--manager", "mia@example.org", "--password-stdin", stdin=PASSWORD + "\n")
    with Server(env, workers=None) as server:  # the defaults, as `make run`
        mia = Browserish(server.url)
        mia.sign_in("mia@example.org", PASSWORD)
        cid = mia.plan(2)
        status, page, _ = mia.get(f"/conversations/{cid}")
        qid = re.search(r'<textarea id="answer-(\d+)" name="body"', page).group(1)

        with SlowClients(server.port, SLOW_CLIENTS) as slow:
            time.sleep(2)  # every worker has had the chance to take a hanging connection
            for round_ in range(3):
                (status, page, _), took = timed(lambda: mia.get(f"/conversations/{cid}"))
                assert status == 200 and "Mia" in page
                assert took < 2, f"the conversation page took {took:.1f} s"
                (status, reply, _), took = timed(lambda: mia.post(
                    f"/conversations/{cid}/answers/{qid}", {"body": f"Still here {round_}", "version": str(round_)},
                    headers={"HX-Request": "true"}))
                assert status == 200, status
                assert took < 2, f"the autosave took {took:.1f} s"
                time.sleep(1)
            assert slow.refused == 0  # the slow clients were kept waiting, not thrown out at once

        assert server.process.poll() is None
        with urllib.request.urlopen(server.url + "/healthz", timeout=2) as response:
            assert response.status == 200
        status, page, _ = mia.get(f"/conversations/{cid}")
        assert "Still here 2" in page


def test_access_log_leaves_out_one_time_link_secrets(tmp_path):
    env = server_env(tmp_path)
    with Server(env, workers=1) as server:
        client = Browserish(server.url)
        client.get("/setup/setup-secret-0123456789")
        client.get("/password/password-secret-0123456789?x=1")
        client.get("/login?next=%2Fconversations%2F")
        deadline = time.monotonic() + 5
        log = ""
        while time.monotonic() < deadline and "/login?next" not in log:
            time.sleep(0.1)
            log = Path(server.log.name).read_text(encoding="utf-8")
    assert "setup-secret" not in log and "password-secret" not in log
    assert '"GET /setup/[secret] HTTP/1.1" 404' in log
    assert '"GET /password/[secret]?x=1 HTTP/1.1"' in log
    assert '"GET /login?next=%2Fconversations%2F HTTP/1.1" 200' in log
