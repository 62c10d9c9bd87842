"""Browser tests: Playwright drives Debian's Chromium against a live server in a thread."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ..conftest import LiveServer

CHROMIUM = os.environ.get("VOORTGANG_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server
