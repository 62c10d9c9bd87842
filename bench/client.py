"""A small keep-alive HTTP/1.1 client on asyncio streams, cheap enough to load a local server.

http.client parses headers with the email package and costs several times more CPU per
request; on a 2-core machine the client shares the CPU with the server, so every
microsecond spent here is taken from the thing being measured.
"""
from __future__ import annotations

import asyncio
import re
import time
import urllib.parse

# A server closes an idle keep-alive connection after a while (gunicorn: 2 s); open a
# new one before that rather than race the close.
IDLE_REOPEN_SECONDS = 1.5
TIMEOUT_SECONDS = 30

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class HTTPError(Exception):
    """The connection failed: no (complete) response."""


class Session:
    """One person's cookies (name → value, enough for one host) and CSRF token."""

    def __init__(self):
        self.cookies: dict[str, str] = {}
        self.header = ""
        self.csrf = ""

    def update(self, set_cookies: list[str]) -> None:
        for line in set_cookies:
            pair, _sep, attrs = line.partition(";")
            name, _eq, value = pair.strip().partition("=")
            attrs = attrs.lower()
            if not value or "max-age=0" in attrs or "1970" in attrs:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        self.header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())


class Connection:
    """One keep-alive connection; requests on it go one at a time."""

    def __init__(self, host: str, port: int, session: Session | None = None, requests_per_connection: int = 0):
        self.host, self.port = host, port
        # Open a new connection after this many requests (0: keep it while it lasts).
        self.requests_per_connection = requests_per_connection
        self.served = 0
        self.jar = session if session is not None else Session()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0
        self.reconnects = 0

    async def _open(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.served = 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, form: dict | None = None,
                      headers: dict | None = None) -> tuple[int, dict, str]:
        """Send one request; return (status, lower-case headers, text). Raise HTTPError."""
        body = urllib.parse.urlencode(form).encode() if form is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "User-Agent: voortgang-bench", "Accept: text/html"]
        if self.jar.header:
            lines.append("Cookie: " + self.jar.header)
        if method == "POST":
            lines.append("Content-Type: application/x-www-form-urlencoded")
            lines.append(f"Content-Length: {len(body)}")
            if self.jar.csrf:
                lines.append("X-CSRFToken: " + self.jar.csrf)
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body

        fresh = self.writer is None or time.monotonic() - self.last_used > IDLE_REOPEN_SECONDS
        if self.requests_per_connection and self.served >= self.requests_per_connection:
            fresh = True
        for attempt in (1, 2):
            try:
                if fresh:
                    await self._open()
                result = await asyncio.wait_for(self._exchange(data, method), TIMEOUT_SECONDS)
                self.last_used = time.monotonic()
                self.served += 1
                return result
            except _StaleConnection:
                # The server closed a reused connection before reading the request
                # (keep-alive race): what a browser silently retries.
                if fresh or attempt == 2:
                    self.close()
                    raise HTTPError("connection closed without a response") from None
                fresh = True
                self.reconnects += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
                self.close()
                raise HTTPError(f"{type(error).__name__}: {error}") from None
        raise AssertionError("unreachable")

    async def _exchange(self, data: bytes, method: str) -> tuple[int, dict, str]:
        reader, writer = self.reader, self.writer
        try:
            writer.write(data)
            head = await reader.readuntil(b"\r\n\r\n")
        except (ConnectionResetError, BrokenPipeError):
            raise _StaleConnection() from None
        except asyncio.IncompleteReadError as error:
            if not error.partial:
                raise _StaleConnection() from None
            raise
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        set_cookies: list[str] = []
        for line in header_lines:
            if not line:
                continue
            key, _sep, value = line.partition(":")
            key, value = key.strip().lower(), value.strip()
            if key == "set-cookie":
                set_cookies.append(value)
            headers[key] = value
        if set_cookies:
            self.jar.update(set_cookies)
        if status in (204, 304) or 100 <= status < 200 or method == "HEAD":
            raw = b""
        elif "content-length" in headers:
            raw = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            raw = b"".join(parts)
        else:
            raw = await reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        text = raw.decode("utf-8", "replace")
        found = CSRF_META.search(text) if "csrf-token" in text else None
        if found:
            self.jar.csrf = found.group(1)
        return status, headers, text


class _StaleConnection(Exception):
    pass
