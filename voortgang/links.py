"""Absolute links: in e-mails, on screen to copy, printed by the CLI, in calendar files.

They all come from here, and here they come from VOORTGANG_BASE_URL, never from the Host
header of a request (which a client chooses: a password link mailed for a request with
`Host: attacker.example` would otherwise point there). The app refuses to start with
e-mail on and no base URL (config.check_config), and with a base URL it accepts only
requests for that host or loopback (TRUSTED_HOSTS, config.load_config).

Without a base URL (and so without e-mail), links shown on a page use the address the
person is using, and the CLI shows the address `voortgang serve` listens on.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def base_url(serve_host: str | None = None, serve_port: int | None = None) -> str:
    """The public address of the app, without a trailing slash."""
    configured = current_app.config.get("BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    host = serve_host or "127.0.0.1"
    if _is_unspecified(host):  # listening everywhere: show a link that works here
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{serve_port or 5000}"


def public_url(endpoint: str, *, serve_host: str | None = None, serve_port: int | None = None,
               **values) -> str:
    """The absolute address of a page, e.g. for an e-mail."""
    return base_url(serve_host, serve_port) + _path(endpoint, **values)


def _path(endpoint: str, **values) -> str:
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def uid_domain() -> str:
    """The domain part of calendar UIDs: the same for every download, whoever asks how."""
    configured = current_app.config.get("BASE_URL")
    return (urlsplit(configured).hostname if configured else None) or "voortgang"


def trusted_hosts(configured_base_url: str | None) -> list[str] | None:
    """Flask's TRUSTED_HOSTS for a base URL: its host and loopback; None (any) without one."""
    if not configured_base_url:
        return None
    host = urlsplit(configured_base_url).hostname
    return [host, *LOOPBACK_HOSTS] if host else None


def _is_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False
