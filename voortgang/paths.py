"""Where the app's resource folders live, in a checkout and in an installed wheel."""
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_DIR = PACKAGE_DIR.parent


def _resource(name: str) -> Path:
    """Return the folder `name`: inside the package when installed, else the checkout's."""
    packaged = PACKAGE_DIR / name
    if packaged.is_dir():
        return packaged
    return _CHECKOUT_DIR / name


TEMPLATES_DIR = _resource("templates")
STATIC_DIR = _resource("static")
TRANSLATIONS_DIR = _resource("translations")
MIGRATIONS_DIR = _resource("migrations")


def default_instance_path() -> Path | None:
    """Return `instance/` of the checkout, or None for an installed wheel (Flask decides)."""
    if (_CHECKOUT_DIR / "pyproject.toml").is_file() and not (PACKAGE_DIR / "templates").is_dir():
        return _CHECKOUT_DIR / "instance"
    return None
