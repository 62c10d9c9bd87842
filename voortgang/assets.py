"""Static files: fingerprinted names, cached for a year, sent compressed.

At start-up the app gives every file in `static/` a name with its content hash in it
(`css/app.css` → `css/app.3f2a1b9c0d4e.css`) and writes that copy, with gzip and brotli
versions beside it, into the assets folder (`<instance>/assets` unless ASSETS_FOLDER says
otherwise), once per content. WhiteNoise serves that folder in front of the app: a
fingerprinted URL never changes its content, so browsers keep it for a year without
asking again (`Cache-Control: public, max-age=31536000, immutable`), and each browser
gets the smallest encoding it accepts. `url_for('static', filename=...)` gives the
fingerprinted URL; the plain `/static/<name>` URL still works (Flask's static route,
revalidated on each use).

Pages and fragments are compressed by Flask-Compress as they are sent (extensions.py).
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

YEAR = 365 * 24 * 60 * 60
HASH_LENGTH = 12
FINGERPRINTED = re.compile(rf"\.[0-9a-f]{{{HASH_LENGTH}}}(\.[^./]+)?$")
# Formats that are compressed already gain nothing from gzip or brotli.
COMPRESSED_FORMATS = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".woff", ".woff2", ".gz", ".br", ".zip"}


def fingerprinted_name(name: str, content: bytes) -> str:
    """`css/app.css` → `css/app.<first 12 hex digits of its SHA-256>.css`."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    folder, _, file_name = name.rpartition("/")
    stem, dot, extension = file_name.rpartition(".")
    if not stem:  # no extension, or a dot file
        stem, dot, extension = file_name, "", ""
    hashed = f"{stem}.{digest}{dot}{extension}" if dot else f"{stem}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


def build(source: Path, target: Path) -> dict[str, str]:
    """Write the fingerprinted copy of every file under `source` (and its compressed
    versions) into `target`, where missing; return {name: fingerprinted name}."""
    names: dict[str, str] = {}
    for root, folders, files in os.walk(source):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for file_name in sorted(files):
            if file_name.startswith("."):
                continue
            path = Path(root) / file_name
            name = path.relative_to(source).as_posix()
            content = path.read_bytes()
            hashed = fingerprinted_name(name, content)
            names[name] = hashed
            _write_once(target / hashed, content)
    return names


def _write_once(path: Path, content: bytes) -> None:
    """Write `path` and its .gz/.br versions unless `path` exists; the plain file comes
    last, so its presence means the whole set is complete (processes may start together)."""
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.suffix.lower() not in COMPRESSED_FORMATS and content:
        for suffix, compress in ((".br", Compressor.compress_brotli), (".gz", Compressor.compress_gzip)):
            packed = compress(content)
            if len(packed) <= 0.95 * len(content):
                _write_atomically(path.with_name(path.name + suffix), packed)
    _write_atomically(path, content)


def _write_atomically(path: Path, content: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o600)  # read by the app itself only, like everything in the instance folder
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _static_headers(headers, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"
    if FINGERPRINTED.search(url):
        headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"


def init_app(app: Flask) -> None:
    """Build the assets folder and serve it at /static/ with WhiteNoise."""
    target = Path(app.config.get("ASSETS_FOLDER") or Path(app.instance_path) / "assets")
    names = build(Path(app.static_folder), target)
    app.extensions["voortgang.assets"] = names

    @app.url_defaults
    def fingerprinted_static_url(endpoint: str, values: dict) -> None:
        if endpoint == "static":
            filename = values.get("filename")
            if filename in names:
                values["filename"] = names[filename]

    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=str(target),
        prefix=app.static_url_path.lstrip("/") + "/",
        max_age=None,  # every file here is fingerprinted: _static_headers says a year
        allow_all_origins=False,
        add_headers_function=_static_headers,
    )
