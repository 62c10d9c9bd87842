"""The page shell: headers on every response, error pages, no third-party requests."""
import re
from pathlib import Path

from .conftest import login

ROOT = Path(__file__).resolve().parent.parent


def assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    for part in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_headers_on_pages_errors_and_static(client, people):
    people.add("eva@example.org")
    responses = [client.get("/login"), client.get("/nowhere"), client.get("/static/css/app.css")]
    login(client, "eva@example.org")
    responses.append(client.get("/"))
    for response in responses:
        assert_security_headers(response)
        response.close()
    assert responses[0].headers["Cache-Control"] == "no-store"
    assert responses[3].headers["Cache-Control"] == "no-store"
    assert responses[1].status_code == 404


def test_500_page_is_generic(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret detail")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret detail" not in body and "Traceback" not in body
    assert "Something went wrong" in body
    assert_security_headers(response)


def test_shell_has_header_language_switch_and_no_inline_script(client, people):
    people.add("eva@example.org", "Eva")
    login(client, "eva@example.org")
    page = client.get("/").get_data(as_text=True)
    assert 'name="csrf-token"' in page
    assert "Eva" in page and "Sign out" in page
    assert 'value="nl"' in page and 'value="en"' in page
    for script in re.findall(r"<script[^>]*>(.*?)</script>", page, re.S):
        assert script.strip() == ""
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers


def test_no_third_party_hosts_in_templates_and_static():
    offenders = []
    for folder in ("templates", "static/css", "static/js"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", path.read_text()):
                if "w3.org/2000/svg" not in path.read_text():
                    offenders.append(str(path))
    assert offenders == []
