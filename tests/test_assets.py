"""Static files and pages on the wire: fingerprinted, cached for a year, compressed."""
import gzip
import re
from pathlib import Path

import brotli
import pytest

from voortgang.assets import build, fingerprinted_name

from .conftest import login
from .helpers import planned

ROOT = Path(__file__).resolve().parent.parent
YEAR = "public, max-age=31536000, immutable"
# What a page loads: stylesheets, scripts, icons and images.
LOADED = re.compile(r'<(?:link[^>]+href|script[^>]+src|img[^>]+src)="([^"]+)"')


def loaded_urls(page: str) -> list[str]:
    return sorted({url for url in LOADED.findall(page) if url.startswith("/")})


def test_pages_load_fingerprinted_static_urls(client):
    urls = loaded_urls(client.get("/login").get_data(as_text=True))
    assert urls, "the page loads nothing?"
    source = ROOT / "static"
    for url in urls:
        name = url.removeprefix("/static/")
        original = re.sub(r"\.[0-9a-f]{12}(?=\.|$)", "", name, count=1)
        assert name == fingerprinted_name(original, (source / original).read_bytes()), url


@pytest.mark.parametrize("encoding, decode", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_static_files_are_cached_for_a_year_and_sent_compressed(client, encoding, decode):
    for url in loaded_urls(client.get("/login").get_data(as_text=True)):
        response = client.get(url, headers={"Accept-Encoding": f"{encoding}, identity"})
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == YEAR
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Accept-Encoding" in response.headers["Vary"]
        original = ROOT / "static" / re.sub(r"\.[0-9a-f]{12}(?=\.|$)", "", url.removeprefix("/static/"), count=1)
        if url.endswith((".js", ".css", ".svg")):
            assert response.headers["Content-Encoding"] == encoding, url
            assert decode(response.data) == original.read_bytes()
        response.close()
    plain = client.get(loaded_urls(client.get("/login").get_data(as_text=True))[0])
    assert "Content-Encoding" not in plain.headers  # nothing accepted, nothing compressed
    plain.close()


def test_plain_static_urls_still_work_but_are_revalidated(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers.get("Cache-Control", "")
    response.close()


def test_changed_file_gets_a_new_name_and_old_names_keep_working(tmp_path):
    source, target = tmp_path / "static", tmp_path / "assets"
    (source / "css").mkdir(parents=True)
    (source / "css" / "app.css").write_text("body { color: black; }\n" * 50)
    first = build(source, target)["css/app.css"]
    (source / "css" / "app.css").write_text("body { color: navy; }\n" * 50)
    second = build(source, target)["css/app.css"]
    assert first != second
    assert (target / first).exists() and (target / second).exists()
    assert gzip.decompress((target / (second + ".gz")).read_bytes()) == (source / "css" / "app.css").read_bytes()
    assert brotli.decompress((target / (second + ".br")).read_bytes()) == (source / "css" / "app.css").read_bytes()


def test_pages_are_compressed_and_stay_personal(client, people):
    people.add("eva@example.org", "Eva")
    login(client, "eva@example.org")
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Eva" in gzip.decompress(response.data).decode()


def test_conversation_page_with_all_it_loads_is_small_on_the_wire(app, team, login_as):
    mia = login_as(team.mia)
    cid = planned(mia, team.eva)
    headers = {"Accept-Encoding": "gzip, deflate"}  # what every browser sends at least
    page = mia.get(f"/conversations/{cid}", headers=headers)
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(page.data).decode()
    assert "answer-" in html
    urls = loaded_urls(html)
    sizes = {f"/conversations/{cid}": len(page.data)}
    for url in urls:
        response = mia.get(url, headers=headers)
        assert response.status_code == 200, url
        sizes[url] = len(response.data)
        response.close()
    assert len(sizes) <= 6, sizes
    assert sum(sizes.values()) <= 40 * 1024, sizes
    print(f"conversation page on the wire: {sum(sizes.values()) // 1024} KB in {len(sizes)} requests")
