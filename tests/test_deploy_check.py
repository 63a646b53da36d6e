"""`manage.py check --deploy` with the production variables the README documents gives no
warning, and those variables are the ones the README's "Production settings" names."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The README's "Production settings", with example values for the secrets and hosts.
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "x7#kP2m!Qv9zL4t^Rw8bN1c&Hy6dF3gJ5sA0eU_oI-pXqWrTzYvB",
    "DJANGO_ALLOWED_HOSTS": "book.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://book.example.com",
    "DJANGO_SECURE_COOKIES": "true",
    "DJANGO_BEHIND_TLS_PROXY": "true",
    "DJANGO_HSTS_SECONDS": "31536000",
    "SITE_URL": "https://book.example.com",
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587/?tls=True",
}
DOCUMENTED_VALUES = [
    "DJANGO_SECURE_COOKIES=true",
    "DJANGO_BEHIND_TLS_PROXY=true",
    "DJANGO_HSTS_SECONDS=31536000",
]


def _check_deploy(**extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "LOGIN_")) and key not in ("SITE_URL", "EMAIL_URL")
    }
    env |= PRODUCTION_ENV | extra
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_passes_with_the_production_variables():
    result = _check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout


def test_preload_is_a_decision_the_check_still_reminds_of_when_asked():
    """Silencing security.W021 follows DJANGO_HSTS_PRELOAD: opting in sends `preload`,
    and then nothing is silenced."""
    result = _check_deploy(DJANGO_HSTS_PRELOAD="true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_without_https_settings_the_check_warns():
    result = _check_deploy(DJANGO_BEHIND_TLS_PROXY="false", DJANGO_HSTS_SECONDS="0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_the_readme_names_the_same_production_values():
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"### Production settings\n(.*?)\n### ", readme, re.S).group(1)
    for setting in DOCUMENTED_VALUES:
        assert f"`{setting}`" in section, setting
    for name in PRODUCTION_ENV:
        assert f"`{name}" in section, name
