"""Two real app processes on two ports sharing one database: nothing lives in process memory."""
import re

import pytest

from .conftest import POSTGRES_URL
from .servers import Browserish, Server, run_cli, server_env

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery staple"


@pytest.fixture
def two_servers(tmp_path, migrated_postgres):
    env = server_env(tmp_path, POSTGRES_URL)
    if POSTGRES_URL:
        from .conftest import _truncate_postgres
        _truncate_postgres(POSTGRES_URL)
    run_cli(env, "db", "upgrade")
    run_cli(env, "user", "add", "--email", "mia@example.org", "--name", "Mia", "--locale", "en",
            "--password-stdin", stdin=PASSWORD + "\n")
    run_cli(env, "user", "add", "--email", "eva@example.org", "--name", "Eva", "--locale", "en",
            "--manager", "mia@example.org", "--password-stdin", stdin=PASSWORD + "\n")
    with Server(env) as a, Server(env) as b:
        yield a, b


def test_update_saved_through_one_process_appears_in_a_page_served_by_the_other(two_servers):
    a, b = two_servers
    mia, eva = Browserish(a.url), Browserish(b.url)
    mia.sign_in("mia@example.org", PASSWORD)
    eva.sign_in("eva@example.org", PASSWORD)

    cid = mia.plan(2)
    status, page, _ = eva.get(f"/conversations/{cid}")
    assert status == 200
    revision = re.search(r'id="live-revision" name="since" value="(\d+)"', page).group(1)
    qid = re.search(r'id="answer-(\d+)-manager"', page).group(1)

    status, _, _ = mia.post(f"/conversations/{cid}/answers/{qid}", {"body": "Saved via process A", "version": "0"},
                            headers={"HX-Request": "true"})
    assert status == 200
    status, body, _ = eva.get(f"/conversations/{cid}/updates?since={revision}&phase=looking_back&presence=",
                              headers={"HX-Request": "true"})
    assert status == 200 and "Saved via process A" in body

    # Presence crosses processes too.
    mia.post(f"/conversations/{cid}/presence", {"phase": "agreements"})
    status, body, _ = eva.get(f"/conversations/{cid}/updates?since={revision}&phase=looking_back&presence=",
                              headers={"HX-Request": "true"})
    assert "Mia is here, in phase 3" in body


def test_sign_in_throttling_is_shared_by_both_processes(two_servers):
    a, b = two_servers
    for attempt in range(5):
        server = a if attempt % 2 else b
        client = Browserish(server.url)
        status, text, _ = client.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text).group(1)
        status, _, _ = client.post("/login", {"email": "eva@example.org", "password": "wrong", "csrf_token": token})
        assert status == 401
    for server in (a, b):
        client = Browserish(server.url)
        _, text, _ = client.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text).group(1)
        status, _, _ = client.post("/login", {"email": "eva@example.org", "password": PASSWORD, "csrf_token": token})
        assert status == 429
