"""Real `voortgang serve` processes (gunicorn) for tests and the benchmark."""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .helpers import id_in

VOORTGANG = str(Path(sys.executable).with_name("voortgang"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(instance: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOORTGANG_")}
    env["VOORTGANG_INSTANCE_PATH"] = str(instance)
    if database_url:
        env["VOORTGANG_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([VOORTGANG, *args], env=env, input=stdin, capture_output=True, text=True,
                          check=True, timeout=120)


class Server:
    """`voortgang serve` on a free port; stopped with stop() or as a context manager."""

    def __init__(self, env: dict[str, str], workers: int | None = 2, threads: int = 1, port: int | None = None):
        """workers=None: the defaults of `voortgang serve`, as `make run` uses them."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(env["VOORTGANG_INSTANCE_PATH"]) / f"server-{self.port}.log", "w")
        sizing = [] if workers is None else ["--workers", str(workers), "--threads", str(threads)]
        self.process = subprocess.Popen(
            [VOORTGANG, "serve", "--host", "127.0.0.1", "--port", str(self.port), *sizing],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.close()
                raise RuntimeError(f"server exited with {self.process.returncode}: see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start in 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browserish:
    """A cookie-keeping HTTP client that sends the CSRF token like the page does."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.csrf = ""

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None,
                base: str | None = None) -> tuple[int, str, dict]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request((base or self.base) + path, data=body, method=method)
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        if method == "POST" and self.csrf:
            req.add_header("X-CSRFToken", self.csrf)
        try:
            with self.opener.open(req, timeout=30) as response:
                status, text, hdrs = response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, text, hdrs = error.code, error.read().decode(), dict(error.headers)
        found = re.search(r'<meta name="csrf-token" content="([^"]+)"', text)
        if found:
            self.csrf = found.group(1)
        return status, text, hdrs

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs):
        return self.request("POST", path, data=data, **kwargs)

    def sign_in(self, email: str, password: str, base: str | None = None) -> None:
        status, text, _ = self.get("/login", base=base)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text).group(1)
        status, _, _ = self.post("/login", {"email": email, "password": password, "csrf_token": token},
                                 base=base)
        if status != 303:
            raise AssertionError(f"sign-in as {email} answered {status}")
        self.get("/", base=base)  # fetch the renewed CSRF token

    def plan(self, employee_id, when: str = "2026-12-01T10:00") -> int:
        """Plan a conversation through the form (asserting the 303); return its id."""
        status, _, headers = self.post("/conversations/", {"employee": str(employee_id), "scheduled_at": when})
        assert status == 303, status
        return id_in(headers["Location"])
