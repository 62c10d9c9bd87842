"""Live together, measured: throughput, latency and lost writes of the live view.

Run by hand from the checkout (never as a timed test):

    .venv/bin/python -m bench.live [--meetings 100] [--seconds 20] [--write-docs]

It starts the production server (gunicorn, as `voortgang serve`) on a fresh
temporary instance folder with SQLite, plus a bare hello route for comparison (see
bench/hello.py), creates the meetings, signs every participant in over HTTP and then:

1. measures throughput at one concurrency of hello, an idle poll and an autosave;
2. runs all meetings at once as the page does (poll every 750 ms, presence every 5 s,
   autosave every ~2 s) and checks that no acknowledged save was lost;
3. measures in two Chromium pages how long a saved answer takes to appear at the other side.

Nothing is written into the repository unless --write-docs is given.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import os
import platform
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .client import Connection, HTTPError, Session
from voortgang.cli import default_workers

from .hello import DIAGNOSE_PATH, HELLO_PATH

REPO = Path(__file__).resolve().parent.parent
VOORTGANG = str(Path(sys.executable).with_name("voortgang"))
PASSWORD = "bench-password-1"
PHASE = "looking_back"
HX = {"HX-Request": "true"}
POLL_SECONDS = 0.75  # templates/conversations/_live.html: every 750ms
HEARTBEAT_SECONDS = 5  # voortgang.conversations.live.HEARTBEAT_SECONDS
REQUESTS_PER_CONNECTION = 100  # throughput runs: then a new connection
CHROMIUM = os.environ.get("VOORTGANG_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

TARGETS = {
    "autosave_p95_ms": 25,
    "poll_ratio": 0.60,
    "save_ratio": 0.30,
    "browser_p95_ms": 1000,
}

LOGIN_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
QUESTION_IDS = re.compile(r'<textarea id="answer-(\d+)" name="body"')
# The page's live state (templates/conversations/_live_state.html), which its poll sends
# along (hx-include) and every changed reply replaces.
LIVE_STATE = re.compile(r'<input type="hidden" id="live-[a-z]+" name="([a-z]+)" value="([^"]*)">')
LIVE_STATE_NAMES = {"since", "seen", "status", "presence", "progress"}
VERSION = re.compile(r'<input[^>]*name="version"[^>]*value="(\d+)"')


# --- Measuring ---------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Kind:
    latencies: list[float] = field(default_factory=list)  # ms
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def record(self, status: int, ms: float) -> None:
        self.latencies.append(ms)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class Stats:
    def __init__(self):
        self.kinds: dict[str, Kind] = {}

    def __getitem__(self, name: str) -> Kind:
        return self.kinds.setdefault(name, Kind())

    @property
    def error_count(self) -> int:
        return sum(k.error_count for k in self.kinds.values())

    def error_lines(self) -> list[str]:
        return [f"{name}: {what} ×{n}" for name, k in self.kinds.items() for what, n in k.errors.items()]


class CPU:
    """CPU seconds used by this process, by the server's processes and by the whole machine."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def _server_seconds(self) -> float:
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry), int(fields[1])
            if pid == self.server_pid or ppid == self.server_pid:
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / self.TICK

    @staticmethod
    def _machine() -> tuple[float, float]:
        with open("/proc/stat") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
        idle = values[3] + values[4]
        return (sum(values[:8]) - idle) / CPU.TICK, sum(values[:8]) / CPU.TICK

    def snapshot(self) -> tuple:
        return time.monotonic(), time.process_time(), self._server_seconds(), *self._machine()

    def since(self, start: tuple) -> dict:
        end = self.snapshot()
        wall = end[0] - start[0]
        busy, total = end[3] - start[3], end[4] - start[4]
        ncpu = os.cpu_count() or 1
        return {
            "client_cores": (end[1] - start[1]) / wall,
            "server_cores": (end[2] - start[2]) / wall,
            "machine_busy_cores": busy / total * ncpu if total else math.nan,
        }


async def loop_lag(samples: list[float], stop: asyncio.Event, interval: float = 0.01) -> None:
    """How late the event loop wakes up: the client's own queueing delay."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        expected = loop.time() + interval
        await asyncio.sleep(interval)
        samples.append((loop.time() - expected) * 1000)


# --- Setting up ----------------------------------------------------------------------


def clean_env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOORTGANG_")}
    env["VOORTGANG_INSTANCE_PATH"] = str(instance)
    return env


@dataclass
class Meeting:
    id: int
    manager: str
    employee: str


def prepare_database(instance: Path, count: int) -> list[Meeting]:
    """Migrate, then add people and meetings in-process with cheap password hashes."""
    env = clean_env(instance)
    done = subprocess.run([VOORTGANG, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise SystemExit(f"voortgang db upgrade failed:\n{done.stderr[-3000:]}")
    os.environ.clear()
    os.environ.update(env)  # the in-process app must use the same instance folder
    from voortgang import create_app

    # The hash parameters are stored in each hash, so sign-in still works (and the
    # server rehashes with its own parameters on the first sign-in, as it would).
    app = create_app({"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1})
    # Imported after create_app: importing voortgang.people.service first runs into an
    # import cycle (people.service → auth → auth.routes → people.service).
    from voortgang.conversations.planning import plan_conversation
    from voortgang.database import writing
    from voortgang.extensions import db
    from voortgang.people.service import create_user
    meetings = []
    with app.app_context():
        pairs = []
        with writing():
            for i in range(count):
                manager = create_user(email=f"manager{i}@bench.example.org", name=f"Manager {i}",
                                      locale="en", password=PASSWORD)
                employee = create_user(email=f"employee{i}@bench.example.org", name=f"Employee {i}",
                                       manager_email=manager.email, locale="en", password=PASSWORD)
                pairs.append((manager, employee))
        when = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        for manager, employee in pairs:
            conversation = plan_conversation(manager, employee_id=employee.id, manager_id=manager.id,
                                             scheduled_at=when, purpose="Benchmark")
            meetings.append(Meeting(conversation.id, manager.email, employee.email))
        db.session.remove()
        db.engine.dispose()
    return meetings


class Server:
    """bench.hello (the production gunicorn set-up plus the hello route) on a free port."""

    def __init__(self, instance: Path, workers: int, threads: int, diagnose: bool = False,
                 module: str = "bench.hello", log_name: str = "server.log"):
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = instance / log_name
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, "--port", str(self.port),
             "--workers", str(workers), "--threads", str(threads)] + (["--diagnose"] if diagnose else []),
            cwd=REPO, env=clean_env(instance), stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + HELLO_PATH, timeout=2) as response:
                    if response.read() == b"hello":
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start in 60 s")

    def diagnosis(self, reset: bool = True) -> dict:
        """The server's own counters since the last reset (needs --diagnose)."""
        with urllib.request.urlopen(self.url + DIAGNOSE_PATH + ("?reset=1" if reset else ""), timeout=10) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --- A participant, as the page behaves ------------------------------------------------


class Participant:
    def __init__(self, host: str, port: int, meeting: Meeting, role: str):
        self.meeting, self.role = meeting, role
        self.email = meeting.manager if role == "manager" else meeting.employee
        self.session = Session()
        # A browser uses several connections per host; the page's poll, heartbeat and
        # autosave are independent requests.
        self.poll_conn = Connection(host, port, self.session)
        self.save_conn = Connection(host, port, self.session)
        self.presence_conn = Connection(host, port, self.session)
        self.questions: list[int] = []
        self.live_state: dict[str, str] = {}
        self.versions: dict[int, int] = {}
        self.acked: dict[int, tuple[str, int]] = {}  # last acknowledged (body, version)
        self.unacked: dict[int, list[str]] = {}  # bodies sent since then without an answer
        self.saves = 0

    @property
    def base(self) -> str:
        return f"/conversations/{self.meeting.id}"

    async def sign_in(self) -> None:
        conn = self.save_conn
        status, _, text = await conn.request("GET", "/login")
        token = LOGIN_TOKEN.search(text).group(1)
        status, _, _ = await conn.request(
            "POST", "/login", {"email": self.email, "password": PASSWORD, "csrf_token": token})
        if status not in (302, 303):
            raise RuntimeError(f"sign-in of {self.email} answered {status}")
        status, _, text = await conn.request("GET", self.base)
        if status != 200:
            raise RuntimeError(f"{self.base} answered {status} for {self.email}")
        self.questions = [int(q) for q in QUESTION_IDS.findall(text)]
        self.live_state = dict(LIVE_STATE.findall(text))
        if len(self.questions) < 2 or not self.session.csrf or set(self.live_state) != LIVE_STATE_NAMES:
            raise RuntimeError(f"unexpected conversation page for {self.email}")

    async def poll(self, kind: Kind, idle: bool = False, conn: Connection | None = None) -> bool:
        path = f"{self.base}/updates?{urllib.parse.urlencode({**self.live_state, 'phase': PHASE})}"
        start = time.perf_counter()
        try:
            status, _, text = await (conn or self.poll_conn).request("GET", path, headers=HX)
        except HTTPError as error:
            kind.error(f"connection: {error}")
            return False
        kind.record(status, (time.perf_counter() - start) * 1000)
        if status == 200:
            state = dict(LIVE_STATE.findall(text))
            if set(state) != LIVE_STATE_NAMES:
                kind.error("200 without live state")
                return False
            self.live_state = state
            if idle:
                kind.error("not idle (200)")
        elif status != 204:
            kind.error(f"status {status}")
            return False
        return True

    async def heartbeat(self, kind: Kind) -> bool:
        start = time.perf_counter()
        try:
            status, _, _ = await self.presence_conn.request(
                "POST", f"{self.base}/presence", {"phase": PHASE}, headers=HX)
        except HTTPError as error:
            kind.error(f"connection: {error}")
            return False
        kind.record(status, (time.perf_counter() - start) * 1000)
        if status != 204:
            kind.error(f"status {status}")
            return False
        return True

    async def save(self, question: int, body: str, kind: Kind, conn: Connection | None = None) -> bool:
        version = self.versions.get(question, 0)
        start = time.perf_counter()
        try:
            status, _, text = await (conn or self.save_conn).request(
                "POST", f"{self.base}/answers/{question}", {"body": body, "version": str(version)},
                headers=HX)
        except HTTPError as error:
            kind.error(f"connection: {error}")
            self.unacked.setdefault(question, []).append(body)
            return False
        kind.record(status, (time.perf_counter() - start) * 1000)
        found = VERSION.search(text)
        if status == 200 and found:
            new = int(found.group(1))
            if new != version + 1 and not self.unacked.get(question):
                kind.error(f"version {version} → {new}")
            self.versions[question] = new
            self.acked[question] = (body, new)
            self.unacked.pop(question, None)
            self.saves += 1
            return True
        if status == 409 and found:
            # Expected only when an earlier save got no answer and may have been stored.
            if not self.unacked.get(question):
                kind.error("unexpected 409")
            self.versions[question] = int(found.group(1))
            return False
        kind.error(f"status {status}")
        return False


async def sign_in_all(participants: list[Participant], parallel: int = 8) -> None:
    gate = asyncio.Semaphore(parallel)

    async def one(p: Participant) -> None:
        async with gate:
            await p.sign_in()

    await asyncio.gather(*(one(p) for p in participants))


# --- 1. Throughput at equal concurrency ------------------------------------------------------


async def throughput(name: str, ops: list, seconds: float, cpu: CPU, server: Server | None = None) -> dict:
    """Run each op in a loop (one per client task) for `seconds`; return req/s and latencies."""
    kind = Kind()
    lag: list[float] = []
    stop = asyncio.Event()
    monitor = asyncio.create_task(loop_lag(lag, stop))
    if server:
        server.diagnosis()
    before = cpu.snapshot()
    start = time.perf_counter()
    deadline = start + seconds

    async def run(op) -> None:
        while time.perf_counter() < deadline:
            await op(kind)

    await asyncio.gather(*(run(op) for op in ops))
    elapsed = time.perf_counter() - start
    stop.set()
    await monitor
    usage = cpu.since(before)
    diagnosis = server.diagnosis() if server else None
    return {"name": name, "requests": len(kind.latencies), "seconds": elapsed, "diagnosis": diagnosis,
            "rps": len(kind.latencies) / elapsed, "kind": kind, "lag_p95": percentile(lag, 95),
            **usage}


async def micro(host: str, port: int, participants: list[Participant], concurrency: int,
                seconds: float, rounds: int, cpu: CPU, server: Server | None = None,
                reference: tuple[int, CPU] | None = None) -> dict:
    """The yardstick's hello, hello, idle poll and autosave, interleaved for `rounds`, each
    at `concurrency`. `reference`: the yardstick's port and CPU counter (bench/reference.py)."""
    # Each client task opens a new connection now and then, as browsers do: a server's
    # workers each accept their own connections, and a handful opened at the same
    # moment can land mostly on one worker and leave the other idle for the whole run.
    hello_conns = [Connection(host, port, requests_per_connection=REQUESTS_PER_CONNECTION)
                   for _ in range(concurrency)]
    reference_conns = [Connection(host, reference[0], requests_per_connection=REQUESTS_PER_CONNECTION)
                       for _ in range(concurrency)] if reference else []

    def hello_op(conn):
        async def op(kind: Kind) -> None:
            t = time.perf_counter()
            try:
                status, _, text = await conn.request("GET", HELLO_PATH)
            except HTTPError as error:
                kind.error(f"connection: {error}")
                return
            kind.record(status, (time.perf_counter() - t) * 1000)
            if status != 200 or text != "hello":
                kind.error(f"status {status}")
        return op

    # Pollers and savers sit in different meetings where there are enough, so the saves
    # never wake a poller; every client task has its own connection.
    pollers = [participants[i % len(participants)] for i in range(concurrency)]
    rotated = participants[concurrency:] + participants[:concurrency]
    slots = [(p, q) for q in range(1, 10) for p in rotated if q < len(p.questions)]  # questions[0]: run together
    if len(slots) < concurrency:
        raise SystemExit(f"too few answers for {concurrency} concurrent autosaves: use more --meetings")
    savers = slots[:concurrency]

    def poll_op(p):
        conn = Connection(host, port, p.session, requests_per_connection=REQUESTS_PER_CONNECTION)

        async def op(kind: Kind) -> None:
            await p.poll(kind, idle=True, conn=conn)
        return op

    def save_op(p, index):
        conn = Connection(host, port, p.session, requests_per_connection=REQUESTS_PER_CONNECTION)
        question = p.questions[index]
        edits = 0

        async def op(kind: Kind) -> None:
            nonlocal edits
            edits += 1
            await p.save(question, f"{p.email}: micro-benchmark text, edit {edits}", kind, conn=conn)
        return op

    results: dict[str, list[dict]] = {"hello": [], "poll": [], "save": []}
    if reference:
        results["reference"] = []
    for _ in range(rounds):
        kinds = [("hello", [hello_op(c) for c in hello_conns]),
                 ("poll", [poll_op(p) for p in pollers]),
                 ("save", [save_op(p, q) for p, q in savers])]
        if reference:
            kinds.insert(0, ("reference", [hello_op(c) for c in reference_conns]))
        for name, ops in kinds:
            if name == "reference":
                result = await throughput(name, ops, seconds, reference[1])
            else:
                result = await throughput(name, ops, seconds, cpu, server)
            results[name].append(result)
            print(f"  {name:<6} {result['rps']:8.1f} req/s  p50 {percentile(result['kind'].latencies, 50):6.1f} ms"
                  f"  p95 {percentile(result['kind'].latencies, 95):6.1f} ms  errors {result['kind'].error_count}"
                  f"  cores: server {result['server_cores']:.2f} client {result['client_cores']:.2f}"
                  f" machine {result['machine_busy_cores']:.2f}", flush=True)
    for conn in hello_conns + reference_conns:
        conn.close()
    summary = {}
    for name, runs in results.items():
        requests = sum(r["requests"] for r in runs)
        elapsed = sum(r["seconds"] for r in runs)
        lat = [ms for r in runs for ms in r["kind"].latencies]
        summary[name] = {
            "rps": requests / elapsed, "requests": requests,
            "p50": percentile(lat, 50), "p95": percentile(lat, 95), "p99": percentile(lat, 99),
            "errors": sum(r["kind"].error_count for r in runs),
            "error_lines": [f"{what} ×{n}" for r in runs for what, n in r["kind"].errors.items()],
            "server_cores": sum(r["server_cores"] * r["seconds"] for r in runs) / elapsed,
            "client_cores": sum(r["client_cores"] * r["seconds"] for r in runs) / elapsed,
            "machine_busy_cores": sum(r["machine_busy_cores"] * r["seconds"] for r in runs) / elapsed,
            "diagnosis": merge_diagnoses([r["diagnosis"] for r in runs]),
        }
    return summary


def merge_diagnoses(diagnoses: list[dict | None]) -> dict | None:
    if not diagnoses or diagnoses[0] is None:
        return None
    merged: dict = {}
    for diagnosis in diagnoses:
        for kind, fields in diagnosis.items():
            into = merged.setdefault(kind, dict.fromkeys(fields, 0.0))
            for key, value in fields.items():
                into[key] += value
    return merged


# --- 2. All meetings at once ----------------------------------------------------------


async def realistic(participants: list[Participant], seconds: float, cpu: CPU,
                    server: Server | None = None) -> dict:
    stats = Stats()
    loop = asyncio.get_running_loop()
    lag: list[float] = []
    stop = asyncio.Event()
    monitor = asyncio.create_task(loop_lag(lag, stop))
    if server:
        server.diagnosis()
    before = cpu.snapshot()
    start = loop.time()
    deadline = start + seconds

    async def until(moment: float) -> None:
        delay = min(moment, deadline) - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def polling(p: Participant) -> None:
        # htmx "every 750ms" with hx-sync="this:drop": a fixed grid, ticks that fall
        # while a poll is in flight are dropped.
        tick = start + random.uniform(0, POLL_SECONDS)
        while True:
            await until(tick)
            if loop.time() >= deadline:
                return
            await p.poll(stats["poll"])
            now = loop.time()
            tick += POLL_SECONDS
            while tick < now:
                tick += POLL_SECONDS

    async def heartbeats(p: Participant) -> None:
        # hx-trigger="load, every 5s": a heartbeat when the page loads, then every 5 s.
        # Pages are opened at different moments, so the phases are spread over the
        # interval like those of the polls and the autosaves.
        tick = start + random.uniform(0, HEARTBEAT_SECONDS)
        while True:
            await until(tick)
            if loop.time() >= deadline:
                return
            await p.heartbeat(stats["presence"])
            tick += HEARTBEAT_SECONDS

    async def autosaves(p: Participant) -> None:
        question = p.questions[0]
        text = f"{p.role} of meeting {p.meeting.id}:"
        moment = start + random.uniform(0, 2)
        edit = 0
        while True:
            await until(moment)
            if loop.time() >= deadline:
                return
            edit += 1
            text += f" word{edit}"
            began = loop.time()
            await p.save(question, text, stats["save"])
            moment = began + random.uniform(1.5, 2.5)

    tasks = [f(p) for p in participants for f in (polling, heartbeats, autosaves)]
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    stop.set()
    await monitor
    usage = cpu.since(before)
    diagnosis = server.diagnosis() if server else None
    # Requests under way at the deadline are waited for: `elapsed` is a little longer.
    return {"stats": stats, "seconds": seconds, "elapsed": elapsed, "lag": lag, "diagnosis": diagnosis,
            **usage}


def lost_writes(database: Path, participants: list[Participant]) -> tuple[int, int, list[str]]:
    """Compare each participant's last acknowledged save with the stored answer."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        stored = {(q, r): (b, v) for q, r, b, v in
                  connection.execute("SELECT question_id, role, body, version FROM answers")}
    finally:
        connection.close()
    checked, problems = 0, []
    for p in participants:
        for question, (body, version) in p.acked.items():
            checked += 1
            row = stored.get((question, p.role))
            if row == (body, version):
                continue
            later = p.unacked.get(question, [])
            if row is not None and row[0] in later and row[1] > version:
                continue  # a save that got no answer but was stored: nothing lost
            problems.append(f"{p.email} q{question}: acknowledged v{version} {body[-30:]!r}, "
                            f"stored {('v%d %r' % (row[1], row[0][-30:])) if row else 'nothing'}")
    return checked, len(problems), problems


# --- 3. Browser-measured delay ---------------------------------------------------------

MANAGER_SCRIPT = """(qid) => {
  const field = document.getElementById('answer-' + qid);
  window.__bench = {saves: []};
  let started = 0, sent = '';
  field.addEventListener('htmx:beforeRequest', () => { started = Date.now(); sent = field.value; });
  field.addEventListener('htmx:afterRequest', (event) => {
    window.__bench.saves.push({start: started, end: Date.now(), value: sent,
                               status: event.detail.xhr ? event.detail.xhr.status : 0});
  });
}"""

EMPLOYEE_SCRIPT = """(qid) => {
  window.__bench = {seen: {}};
  const check = () => {
    const el = document.getElementById('answer-' + qid + '-manager');
    if (!el) return;
    const now = Date.now();
    for (const m of el.textContent.matchAll(/\\[r(\\d+)\\]/g)) {
      if (!(m[1] in window.__bench.seen)) window.__bench.seen[m[1]] = now;
    }
  };
  new MutationObserver(check).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def browser_delay(base: str, meeting: Meeting, rounds: int) -> dict:
    """The manager types; how long until the employee's page shows it."""
    from playwright.sync_api import sync_playwright

    delays, from_start, failures = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pages = {}
            for role, email in (("manager", meeting.manager), ("employee", meeting.employee)):
                context = browser.new_context(locale="en-GB")
                page = context.new_page()
                page.goto(base + "/login")
                page.locator("#email").fill(email)
                page.locator("#password").fill(PASSWORD)
                page.locator("main form button[type=submit]").click()
                page.wait_for_url(lambda url: "/login" not in url)
                page.goto(f"{base}/conversations/{meeting.id}")
                page.wait_for_load_state("load")
                pages[role] = page
            manager, employee = pages["manager"], pages["employee"]
            qid = int(manager.locator("textarea[data-autosave]").first.get_attribute("id").split("-")[1])
            manager.evaluate(MANAGER_SCRIPT, qid)
            employee.evaluate(EMPLOYEE_SCRIPT, qid)
            field = manager.locator(f"#answer-{qid}")
            field.click()
            for k in range(1, rounds + 1):
                time.sleep(random.uniform(0, POLL_SECONDS))  # no lock-step with the poll timer
                marker = f"[r{k}]"
                field.press_sequentially(f" {marker}", delay=15)
                try:
                    employee.wait_for_function(f"() => '{k}' in window.__bench.seen", timeout=10_000)
                except Exception:  # noqa: BLE001  (a timeout: count it, go on)
                    failures.append(f"round {k}: not shown in 10 s")
                    continue
                seen = employee.evaluate(f"() => window.__bench.seen['{k}']")
                manager.wait_for_function(
                    f"() => window.__bench.saves.some(s => s.value.includes('{marker}'))", timeout=10_000)
                saves = manager.evaluate("() => window.__bench.saves")
                save = next(s for s in saves if marker in s["value"])
                if save["status"] != 200:
                    failures.append(f"round {k}: save answered {save['status']}")
                    continue
                delays.append(seen - save["end"])
                from_start.append(seen - save["start"])
        finally:
            browser.close()
    return {"delays": delays, "from_start": from_start, "failures": failures}


# --- Report ------------------------------------------------------------------------------


def machine() -> dict:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}",
            "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def fmt_ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f} ms"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def build_report(r: dict) -> tuple[str, list[tuple[str, str, str, str]]]:
    m, args, mic, real, br = r["machine"], r["args"], r["micro"], r["realistic"], r["browser"]
    hello = mic["hello"]["rps"]
    # The targets' baseline: the yardstick (bench/reference.py), which measures the machine
    # whatever server the app runs on; without it (--no-reference), hello on the same server.
    yardstick = mic["reference"]["rps"] if "reference" in mic else hello
    baseline = "yardstick" if "reference" in mic else "hello"
    poll_ratio, save_ratio = mic["poll"]["rps"] / yardstick, mic["save"]["rps"] / yardstick
    save_lat = real["stats"]["save"].latencies
    errors = real["stats"].error_count + sum(mic[k]["errors"] for k in mic)
    bdelay_p95 = percentile(br["delays"], 95) if br else math.nan
    rows = [
        ("autosave p95 (all meetings at once)", fmt_ms(percentile(save_lat, 95)),
         f"≤ {TARGETS['autosave_p95_ms']} ms", verdict(percentile(save_lat, 95) <= TARGETS["autosave_p95_ms"])),
        (f"idle poll throughput / {baseline}", f"{poll_ratio:.0%}", f"≥ {TARGETS['poll_ratio']:.0%}",
         verdict(poll_ratio >= TARGETS["poll_ratio"])),
        (f"autosave throughput / {baseline}", f"{save_ratio:.0%}", f"≥ {TARGETS['save_ratio']:.0%}",
         verdict(save_ratio >= TARGETS["save_ratio"])),
        ("errors", str(errors), "0", verdict(errors == 0)),
        ("lost writes", str(real["lost"]), "0", verdict(real["lost"] == 0)),
        ("browser delay p95 (save reply → shown)", fmt_ms(bdelay_p95),
         f"≤ {TARGETS['browser_p95_ms']} ms", verdict(None if not br else (
             not br["failures"] and bdelay_p95 <= TARGETS["browser_p95_ms"]))),
    ]
    lines = []
    add = lines.append
    add(f"Date: {r['date']}")
    add(f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['system']}, Python {m['python']}, "
        f"load average at start {m['loadavg']}")
    kind = "gunicorn + waitress" if (REPO / "voortgang" / "server.py").exists() else "gunicorn sync"
    add(f"Server: voortgang serve ({kind}), {args.workers} workers × {args.threads} threads, SQLite (WAL) "
        f"in a fresh instance folder")
    add(f"Parameters: {args.meetings} meetings ({2 * args.meetings} participants), "
        f"{args.concurrency} client connections × {args.rounds} rounds × {args.micro_seconds:g} s per kind, "
        f"{args.seconds:g} s together, {args.browser_rounds} browser rounds")
    add("")
    add(f"Throughput at {args.concurrency} concurrent connections (kept alive where the server allows it):")
    add("| request | req/s | of yardstick | of hello | p50 | p95 | p99 | server CPU per request | server cores "
        "| client cores | other processes' cores | errors |")
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    kinds = [("hello", "GET /__bench/hello"), ("poll", "idle poll (204)"), ("save", "autosave (200)")]
    if "reference" in mic:
        kinds.insert(0, ("reference", "yardstick: bare Flask hello, gunicorn sync"))
    for key, label in kinds:
        s = mic[key]
        others = s["machine_busy_cores"] - s["server_cores"] - s["client_cores"]
        add(f"| {label} | {s['rps']:.0f} | {s['rps'] / yardstick:.0%} | {s['rps'] / hello:.0%} "
            f"| {fmt_ms(s['p50'])} | {fmt_ms(s['p95'])} "
            f"| {fmt_ms(s['p99'])} | {fmt_ms(s['server_cores'] / s['rps'] * 1000)} | {s['server_cores']:.2f} "
            f"| {s['client_cores']:.2f} | {max(others, 0):.2f} | {s['errors']} |")
    add("")
    stats = real["stats"]
    add(f"All {args.meetings} meetings at once for {real['seconds']:g} s "
        f"(poll every {POLL_SECONDS * 1000:.0f} ms, presence every {HEARTBEAT_SECONDS} s, autosave every ~2 s):")
    add("| request | count | req/s | p50 | p95 | p99 | max | statuses | errors |")
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for key, label in (("save", "autosave"), ("poll", "poll"), ("presence", "presence")):
        k = stats[key]
        lat = k.latencies
        statuses = ", ".join(f"{s}×{n}" for s, n in sorted(k.statuses.items()))
        add(f"| {label} | {len(lat)} | {len(lat) / real['seconds']:.0f} | {fmt_ms(percentile(lat, 50))} "
            f"| {fmt_ms(percentile(lat, 95))} | {fmt_ms(percentile(lat, 99))} | {fmt_ms(max(lat, default=math.nan))} "
            f"| {statuses} | {k.error_count} |")
    beats = math.ceil(real["seconds"] / HEARTBEAT_SECONDS)  # one on load, then every 5 s
    offered = 2 * args.meetings * (1 / POLL_SECONDS + beats / real["seconds"]) + args.meetings / 2
    served = sum(len(stats[k].latencies) for k in ("save", "poll", "presence")) / real["seconds"]
    add("")
    add(f"Offered about {offered:.0f} req/s (as the page would send them), served {served:.0f} req/s "
        "(a participant waits for its own poll and save before sending the next, so an overloaded "
        "server gets fewer requests and longer latencies).")
    add(f"CPU during that run: server {real['server_cores']:.2f} cores, this client "
        f"{real['client_cores']:.2f} cores, whole machine {real['machine_busy_cores']:.2f} of {m['nproc']}; "
        f"client event-loop lag p95 {fmt_ms(percentile(real['lag'], 95))}, p99 {fmt_ms(percentile(real['lag'], 99))}.")
    add(f"Lost writes: {real['lost']} (checked {real['checked']} answers against the database; "
        f"{real['acked']} acknowledged saves in all).")
    if br:
        add(f"Browser ({len(br['delays'])} of {args.browser_rounds} rounds, Chromium, "
            f"{'during' if args.browser_during_load else 'after'} the load): "
            f"save reply → shown at the other side p50 {fmt_ms(percentile(br['delays'], 50))}, "
            f"p95 {fmt_ms(percentile(br['delays'], 95))}, max {fmt_ms(max(br['delays'], default=math.nan))}; "
            f"save start → shown p50 {fmt_ms(percentile(br['from_start'], 50))}, "
            f"p95 {fmt_ms(percentile(br['from_start'], 95))}.")
        for failure in br["failures"]:
            add(f"  browser: {failure}")
    if real.get("diagnosis"):
        add("")
        add("Where the server's time goes (mean per request, measured inside the workers; "
            "the write lock is SQLite's, waited for at the lock file and BEGIN IMMEDIATE, held until COMMIT or ROLLBACK):")
        add("| run | request | app | app CPU | SQL | waiting for the write lock | holding it | transactions |")
        add("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for run, diagnosis, kinds in [("throughput", mic[k]["diagnosis"], [k]) for k in ("hello", "poll", "save")] + [
                ("together", real["diagnosis"], ["save", "poll", "presence"])]:
            for kind in kinds:
                d = diagnosis[kind]
                n = d["requests"] or math.nan
                add(f"| {run} | {kind} | {fmt_ms(d['app_s'] / n * 1000)} | {fmt_ms(d['app_cpu_s'] / n * 1000)} "
                    f"| {fmt_ms(d['sql_s'] / n * 1000)} "
                    f"| {fmt_ms(d['lock_wait_s'] / n * 1000)} | {fmt_ms(d['lock_hold_s'] / n * 1000)} "
                    f"| {d['transactions'] / n:.1f} |")
    for line in stats.error_lines():
        add(f"  error in the run together: {line}")
    for key in mic:
        for line in mic[key]["error_lines"]:
            add(f"  error in {key} throughput: {line}")
    bottleneck = []
    if real["client_cores"] > 0.8 or percentile(real["lag"], 95) > 20:
        bottleneck.append("the client (one Python process) was near a full core or lagging during the "
                          "run together, so latencies include client-side queueing")
    if max(mic[k]["client_cores"] for k in mic) > 0.8:
        bottleneck.append("the client used most of a core in the throughput runs")
    for note in bottleneck:
        add(f"Note: {note}.")
    return "\n".join(lines), rows


def table(rows) -> str:
    out = ["| target | measured | goal | result |", "| --- | --- | --- | --- |"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(out)


DOC_METHOD = """\
## Method
`bench/live.py` starts the production server exactly as `voortgang serve` does (gunicorn's
processes, each serving with waitress, 2 single-threaded processes per CPU, access log on),
on a fresh temporary instance folder with SQLite, with one extra route `GET /__bench/hello`
that exists only in the benchmark (`bench/hello.py`): a bare Flask response on the same
server in the same run. Beside it runs the yardstick (`bench/reference.py`): a bare Flask
hello on gunicorn's sync workers, with no code of ours, which measures the machine and
does not change when our server does. People and meetings are created in-process with
the app's own functions (with cheap password hashes), and every participant signs in over
HTTP.

- **Throughput:** the same number of connections for each kind, interleaved in
  rounds to even out a noisy machine: the yardstick; hello; an idle poll
  (`GET /conversations/<id>/updates` with the page's live state: `204`); an autosave
  (`POST .../answers/<qid>` with the right `version`: `200`). Connections are kept alive
  where the server allows it (the yardstick's sync workers close each one) and replaced
  after 100 requests, as browsers do now and then, so that a handful of connections opened
  at one moment do not stay on one worker.
  The targets' ratios are taken against the yardstick: it cancels the machine's speed
  without moving when our server gets cheaper (the "of hello" column shows the ratio to
  the same server's bare response; `--no-reference` makes that the targets' baseline).
- **Together:** every participant of every meeting behaves like the page: a poll on a
  750 ms grid with the page's whole live state (`since`, `seen`, `status`, `presence`,
  `progress`, updated from each changed reply; a tick is dropped while a poll is in
  flight, like `hx-sync="this:drop"`), a presence heartbeat every 5 s, and an autosave of
  a growing text every ~2 s with the version of the last reply. The phases of all three
  are spread at random over their intervals (pages are opened at different moments).
  Latency is measured per request in the client. Afterwards the SQLite file is read
  directly: every participant's last acknowledged save must be the stored body and
  version (lost writes).
- **Browser:** two Chromium contexts (manager and employee of one meeting). The manager
  types into an answer; the delay runs from `htmx:afterRequest` of that save in the
  manager's page to a MutationObserver seeing the text in the employee's page (both
  `Date.now()` in one browser process).
- Errors: any status ≥ 500, a connection error, an unexpected status such as a `409`
  that no earlier unanswered save explains.

The client is one Python process (asyncio, a minimal HTTP/1.1 client) on the same
machine, so it takes CPU from the server: its use is shown per run, with the CPU the
server's processes used (from /proc) and what other processes on the machine took.

With `--diagnose` the workers also count, per kind of request, the time in the app (wall
clock and CPU), in SQL, waiting for SQLite's write lock (the lock file, then `BEGIN
IMMEDIATE`) and holding it (to COMMIT or ROLLBACK): bench-only hooks, a few microseconds
per statement, so its own figures run a little slower.

Run it again with `.venv/bin/python -m bench.live --write-docs` (`--help` for the options);
it rewrites this file above the line that starts the hand-written part.
"""

# docs/performance.md: what follows this line is written by hand and kept as it is.
HAND_WRITTEN = "<!-- Written by hand below: kept by --write-docs. -->"


def command_line(args) -> str:
    parts = ["python -m bench.live", f"--meetings {args.meetings}", f"--seconds {args.seconds:g}"]
    defaults = vars(parse_args([]))
    for key, value in vars(args).items():
        if key in ("meetings", "seconds", "write_docs", "keep") or value == defaults[key]:
            continue
        flag = "--" + key.replace("_", "-")
        parts.append(flag if value is True else f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}")
    return " ".join(parts)


def write_docs(report: str, rows, args) -> Path:
    path = REPO / "docs" / "performance.md"
    path.parent.mkdir(exist_ok=True)
    text = "\n".join([
        "# Performance: live together",
        "",
        f"Measured with `{command_line(args)}`. A shared machine is noisy (see the load average and "
        "the other processes' cores below): read the ratios, the CPU per request and the orders of "
        "magnitude, not the last digit.",
        "",
        "## Targets",
        table(rows),
        "",
        "## Figures",
        report,
        "",
        DOC_METHOD,
    ])
    kept = ""
    if path.exists():
        before, marker, after = path.read_text(encoding="utf-8").partition(HAND_WRITTEN)
        kept = marker + after if marker else ""
    path.write_text(text + "\n" + kept, encoding="utf-8")
    return path


# --- Main ------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=100, help="meetings at once (default 100)")
    parser.add_argument("--seconds", type=float, default=20, help="length of the run together (default 20)")
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help=f"gunicorn workers (default {default_workers()}, as voortgang serve)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (default 1, as voortgang serve)")
    parser.add_argument("--concurrency", type=int, default=16, help="connections in the throughput runs")
    parser.add_argument("--micro-seconds", type=float, default=5, help="seconds per kind per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of hello/poll/autosave (default 3)")
    parser.add_argument("--browser-rounds", type=int, default=20, help="0 skips the browser")
    parser.add_argument("--browser-during-load", action="store_true",
                        help="measure the browser delay during the run together instead of after it")
    parser.add_argument("--diagnose", action="store_true",
                        help="have the server count time in the app, in SQL and on the SQLite write lock")
    parser.add_argument("--no-reference", dest="reference", action="store_false",
                        help="skip the yardstick (bench/reference.py); the targets then compare with hello")
    parser.add_argument("--server-module", default="bench.hello",
                        help="module that serves the app (to try a variant; default bench.hello)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance folder")
    parser.add_argument("--write-docs", action="store_true", help="write docs/performance.md")
    args = parser.parse_args(argv)
    if args.meetings < 1:
        parser.error("--meetings must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    info = machine()
    started = dt.datetime.now().astimezone()
    print(f"Voortgang live benchmark, {started:%Y-%m-%d %H:%M %Z}; {info['nproc']} CPUs ({info['cpu']}), "
          f"Python {info['python']}", flush=True)
    instance = Path(tempfile.mkdtemp(prefix="voortgang-bench-"))
    server = reference = None
    try:
        t = time.monotonic()
        meetings = prepare_database(instance, args.meetings + 1)  # the last one is the browser's
        browser_meeting, meetings = meetings[-1], meetings[:-1]
        print(f"database ready: {len(meetings)} meetings + 1 for the browser ({time.monotonic() - t:.1f} s)",
              flush=True)
        server = Server(instance, args.workers, args.threads, args.diagnose, args.server_module)
        print(f"server on {server.url} (log {server.log_path})", flush=True)
        if args.reference:
            reference = Server(instance, args.workers, 1, module="bench.reference", log_name="reference.log")
            print(f"yardstick on {reference.url}", flush=True)
        cpu = CPU(server.process.pid)
        host, port = "127.0.0.1", server.port
        participants = [Participant(host, port, m, role) for m in meetings for role in ("manager", "employee")]

        browser_result: dict | None = None
        browser_thread: threading.Thread | None = None
        if args.browser_rounds and args.browser_during_load:
            holder: dict = {}

            def measure_browser() -> None:
                time.sleep(3)  # let the run together get going first
                holder["result"] = browser_delay(server.url, browser_meeting, args.browser_rounds)

            browser_thread = threading.Thread(target=measure_browser, daemon=True)

        async def load() -> tuple[dict, dict]:
            t0 = time.monotonic()
            await sign_in_all(participants)
            print(f"{len(participants)} participants signed in over HTTP ({time.monotonic() - t0:.1f} s)",
                  flush=True)
            print(f"throughput, {args.concurrency} connections, {args.rounds} × {args.micro_seconds:g} s each:",
                  flush=True)
            diag = server if args.diagnose else None
            mic = await micro(host, port, participants, args.concurrency, args.micro_seconds, args.rounds, cpu, diag,
                              (reference.port, CPU(reference.process.pid)) if reference else None)
            print(f"all {len(meetings)} meetings at once for {args.seconds:g} s ...", flush=True)
            if browser_thread is not None:
                browser_thread.start()
            real = await realistic(participants, args.seconds, cpu, diag)
            return mic, real

        mic, real = asyncio.run(load())
        if browser_thread is not None:
            browser_thread.join()
            browser_result = holder.get("result")
        checked, lost, problems = lost_writes(instance / "voortgang.db", participants)
        real.update(checked=checked, lost=lost, acked=sum(p.saves for p in participants))
        for problem in problems[:20]:
            print("LOST:", problem)
        print(f"lost writes: {lost}", flush=True)
        if args.browser_rounds and not args.browser_during_load:
            print(f"browser: {args.browser_rounds} rounds ...", flush=True)
            browser_result = browser_delay(server.url, browser_meeting, args.browser_rounds)
        result = {"machine": info, "args": args, "micro": mic, "realistic": real, "browser": browser_result,
                  "date": started.strftime("%Y-%m-%d %H:%M %Z")}
        report, rows = build_report(result)
        print()
        print(report)
        print()
        print(table(rows))
        if args.write_docs:
            print(f"\nwrote {write_docs(report, rows, args).relative_to(REPO)}")
        return 0 if all(row[3] in ("met", "n/a") for row in rows) else 1
    finally:
        for process in (server, reference):
            if process is not None:
                process.stop()
        if args.keep:
            print(f"instance folder kept: {instance}")
        else:
            shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
