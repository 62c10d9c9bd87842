"""Response headers that hold for every page, fragment and error."""
from __future__ import annotations

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


HSTS = "max-age=31536000"


def set_security_headers(response: Response) -> Response:
    """Add CSP and friends; keep personal pages out of every cache."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin keeps the Referer that Flask-WTF checks on HTTPS POSTs.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        # Cookies only over HTTPS means the site is HTTPS: browsers should never try plain HTTP.
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
