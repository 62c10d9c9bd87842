"""Screenshots for the README, made from a fresh demo organisation: `make screenshots`.

Starts `voortgang serve` on a temporary instance folder filled by `voortgang demo`,
drives Debian's Chromium with Playwright (as the browser tests do), and writes small
PNGs into docs/screenshots/ (shrunk with pngquant when it is installed). Not part of
the test suite; run it again after a visible change and commit the pictures.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
VOORTGANG = str(Path(sys.executable).with_name("voortgang"))
CHROMIUM = os.environ.get("VOORTGANG_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sign_in(browser, base: str, email: str, password: str, locale: str, viewport: dict):
    context = browser.new_context(locale=locale, viewport=viewport)
    page = context.new_page()
    page.goto(base + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(base + "/")
    return page


def shoot(page, name: str) -> Path:
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    instance = Path(tempfile.mkdtemp(prefix="voortgang-screenshots-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOORTGANG_")}
    env["VOORTGANG_INSTANCE_PATH"] = str(instance)
    server = None
    try:
        subprocess.run([VOORTGANG, "db", "upgrade"], env=env, check=True, capture_output=True)
        demo = subprocess.run([VOORTGANG, "demo"], env=env, check=True, capture_output=True, text=True).stdout
        accounts = dict(re.findall(r"^\s+(\S+@demo\.example)\s+(\S+)\s+", demo, re.M))
        with sqlite3.connect(instance / "voortgang.db") as db:
            ongoing = db.execute("SELECT id FROM conversations WHERE status = 'in_progress'").fetchone()[0]
            eva = db.execute("SELECT id FROM users WHERE email = 'eva@demo.example'").fetchone()[0]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([VOORTGANG, "serve", "--port", str(port), "--workers", "2"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # The conversation, together: Mia (English) on her laptop, Daan (Dutch) on his phone.
            mia = sign_in(browser, base, "mia@demo.example", accounts["mia@demo.example"], "en-GB", WIDE)
            daan = sign_in(browser, base, "daan@demo.example", accounts["daan@demo.example"], "nl-NL", PHONE)
            daan.goto(f"{base}/conversations/{ongoing}")
            mia.goto(f"{base}/conversations/{ongoing}")
            mia.wait_for_timeout(2000)  # the other side's presence arrives with a poll
            shoot(mia, "conversation")
            daan.wait_for_timeout(1000)
            shoot(daan, "phone")
            # The organisation's overview (Hanna, in Dutch) and a personal record (Mia reads Eva's).
            hanna = sign_in(browser, base, "hanna@demo.example", accounts["hanna@demo.example"], "nl-NL", WIDE)
            hanna.goto(base + "/overview")
            shoot(hanna, "overview")
            mia.goto(f"{base}/people/{eva}/record")
            shoot(mia, "record")
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(20)
        shutil.rmtree(instance, ignore_errors=True)
    pictures = sorted(OUT.glob("*.png"))
    if shutil.which("pngquant"):
        subprocess.run(["pngquant", "--force", "--ext", ".png", "--quality", "60-85", "--skip-if-larger",
                        *map(str, pictures)], check=False)
    total = sum(p.stat().st_size for p in pictures)
    for picture in pictures:
        print(f"{picture.relative_to(ROOT)}: {picture.stat().st_size // 1024} KB")
    print(f"in all: {total // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
