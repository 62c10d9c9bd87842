"""The deployment guide's files (docs/deploy/) are valid for the tools that read them."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy"
UNITS = sorted(p.name for p in DEPLOY.iterdir() if p.suffix in (".service", ".timer"))


def test_guide_links_every_file_and_the_readme_links_the_guide():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for path in DEPLOY.iterdir():
        assert f"deploy/{path.name}" in guide, path.name
    assert "docs/deploy.md" in (ROOT / "README.md").read_text()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze (Debian: systemd)")
def test_systemd_units_verify(tmp_path):
    # The units name /opt/voortgang; verify them against this checkout, whose
    # .venv/bin/voortgang exists, so that a wrong path or key fails the test.
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace("/opt/voortgang", str(ROOT))
        (tmp_path / name).write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *UNITS], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "ignoring" not in result.stderr and "Unknown" not in result.stderr, result.stderr


@pytest.mark.skipif(not shutil.which("caddy"), reason="needs caddy (Debian: caddy)")
def test_caddyfile_validates(tmp_path):
    result = subprocess.run(["caddy", "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                            capture_output=True, text=True, timeout=60, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid configuration" in result.stdout + result.stderr
