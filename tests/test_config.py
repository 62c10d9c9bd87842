import os
import stat

import pytest

from voortgang import create_app
from voortgang.config import ConfigError

from .conftest import BASE_CONFIG, TEST_SECRET


def test_precedence_defaults_file_env_test(instance_path, database_url, monkeypatch):
    base = {k: v for k, v in BASE_CONFIG.items() if k != "DEFAULT_LOCALE"}
    base["SQLALCHEMY_DATABASE_URI"] = database_url
    assert create_app(base).config["LOGIN_THROTTLE_MINUTES"] == 15  # default

    (instance_path / "config.py").write_text("LOGIN_THROTTLE_MINUTES = 20\nDEFAULT_LOCALE = 'en'\n")
    app = create_app(base)
    assert app.config["LOGIN_THROTTLE_MINUTES"] == 20
    assert app.config["DEFAULT_LOCALE"] == "en"

    monkeypatch.setenv("VOORTGANG_LOGIN_THROTTLE_MINUTES", "30")
    monkeypatch.setenv("VOORTGANG_DEFAULT_LOCALE", "nl")
    app = create_app(base)
    assert app.config["LOGIN_THROTTLE_MINUTES"] == 30
    assert app.config["DEFAULT_LOCALE"] == "nl"

    app = create_app({**base, "LOGIN_THROTTLE_MINUTES": 40})
    assert app.config["LOGIN_THROTTLE_MINUTES"] == 40


def test_database_url_and_secure_cookies_from_environment(instance_path, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("VOORTGANG_DATABASE_URL", url)
    monkeypatch.setenv("VOORTGANG_SECURE_COOKIES", "true")
    monkeypatch.setenv("VOORTGANG_SECRET_KEY", TEST_SECRET)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_default_database_is_sqlite_in_instance_folder(instance_path):
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance_path / 'voortgang.db'}"


def test_secret_key_generated_once_with_mode_0600(instance_path):
    key_file = instance_path / "secret_key"
    assert not key_file.exists()
    first = create_app({"TESTING": True}).config["SECRET_KEY"]
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 32
    second = create_app({"TESTING": True}).config["SECRET_KEY"]
    assert second == first
    assert not [p for p in os.listdir(instance_path) if p.startswith(".secret-")]


@pytest.mark.parametrize("weak", ["secret", "changeme", "a" * 64, "0123456789abcdef"])
def test_refuses_to_start_with_weak_secret(instance_path, monkeypatch, weak):
    monkeypatch.setenv("VOORTGANG_SECRET_KEY", weak)
    with pytest.raises(ConfigError, match="SECRET_KEY is too weak"):
        create_app()


def test_bad_environment_values_are_named(instance_path, monkeypatch):
    monkeypatch.setenv("VOORTGANG_SECURE_COOKIES", "maybe")
    with pytest.raises(ConfigError, match="VOORTGANG_SECURE_COOKIES"):
        create_app({"TESTING": True})
    monkeypatch.delenv("VOORTGANG_SECURE_COOKIES")
    monkeypatch.setenv("VOORTGANG_DEFAULT_LOCALE", "de")
    with pytest.raises(ConfigError, match="DEFAULT_LOCALE"):
        create_app({"TESTING": True})
