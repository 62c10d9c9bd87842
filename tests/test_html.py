"""Every page, in both languages, is valid HTML to the W3C Nu checker (vnu.jar).

htmx's `hx-*` attributes are the one thing allowed beyond the standard; every other
error or warning fails the test. `make test-deps` installs vnu.jar (npm package
vnu-jar) into .venv/vnu; VOORTGANG_TEST_VNU names another copy.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from voortgang.demo import fill_demo

from .conftest import login
from .helpers import page_paths

ROOT = Path(__file__).resolve().parent.parent
VNU = Path(os.environ.get("VOORTGANG_TEST_VNU") or ROOT / ".venv/vnu/node_modules/vnu-jar/build/dist/vnu.jar")
# The Nu checker knows no htmx: its attributes are reported as not allowed, and nothing else is.
HTMX_ATTRIBUTE = re.compile(r"^Attribute “hx-[a-z-]+(:[a-z-]+)*” not allowed on element “[a-z]+” at this point\.$")
pytestmark = pytest.mark.slow


def signed_out_pages(client) -> dict[str, str]:
    return {path: client.get(path).get_data(as_text=True)
            for path in ("/login", "/forgot-password", "/forgot-password?sent=1", "/password/not-a-token",
                         "/no-such-page")}


def test_every_page_is_valid_html_in_both_languages(app, tmp_path):
    if not VNU.is_file() or not shutil.which("java"):
        pytest.fail(f"the Nu checker needs java and {VNU}: run `make test-deps`")
    with app.app_context():
        accounts = {email: password for _name, email, password, _role in fill_demo()}
    pages: dict[str, str] = {}
    for locale in ("nl", "en"):
        client = app.test_client()
        client.post("/language", data={"locale": locale, "next": "/login"})
        pages.update({f"{locale} signed out {path}": html for path, html in signed_out_pages(client).items()})
        for email in ("hanna@demo.example", "mia@demo.example", "eva@demo.example"):
            client = app.test_client()
            assert login(client, email, accounts[email]).status_code == 303
            client.post("/language", data={"locale": locale, "next": "/"})
            for path in page_paths(app, email):
                response = client.get(path)
                if response.status_code in (302, 303) and path in ("/login", "/forgot-password"):
                    continue  # signed in: sent on to the home page
                assert response.status_code == 200, (email, path, response.status_code)
                pages[f"{locale} {email} {path}"] = response.get_data(as_text=True)
    assert len(pages) > 60
    files = {}
    for n, (name, html) in enumerate(sorted(pages.items())):
        file = tmp_path / f"page-{n:03d}.html"
        file.write_text(html, encoding="utf-8")
        files[file.name] = name
    result = subprocess.run(["java", "-jar", str(VNU), "--format", "json", *(str(tmp_path / f) for f in files)],
                            capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr)["messages"]
    problems = [f"{files.get(m.get('url', '').rsplit('/', 1)[-1], m.get('url'))}: line {m.get('lastLine')}: {m['type']}"
                f"{'/' + m['subType'] if m.get('subType') else ''}: {m['message']} [{m.get('extract', '').strip()}]"
                for m in messages if not HTMX_ATTRIBUTE.match(m.get("message", ""))]
    assert problems == [], f"{len(problems)} problem(s):\n" + "\n".join(problems[:80])
