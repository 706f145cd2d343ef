"""Production settings: loud failures without keys, and a clean `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def _manage(
    args: list[str], env_extra: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        {"FIELDLINE_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    )
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {
            "DEBUG": "false",
            "SECRET_KEY": "x" * 20 + "-prod-secret-key-with-enough-entropy-1234567890",
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "portal.example.com",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_production_without_a_secret_key_fails_loudly_with_how_to_make_one(tmp_path):
    result = _manage(
        ["check"],
        {
            "DEBUG": "false",
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "portal.example.com",
        },
        tmp_path,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr
    assert "secrets.token_urlsafe" in result.stderr


def test_production_without_encryption_keys_fails_loudly_with_how_to_make_one(tmp_path):
    result = _manage(
        ["check"],
        {"DEBUG": "false", "SECRET_KEY": "y" * 60, "ALLOWED_HOSTS": "portal.example.com"},
        tmp_path,
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS is not set" in result.stderr
    assert "Fernet.generate_key()" in result.stderr


def test_the_demo_generates_its_keys_once_into_var(tmp_path):
    first = _manage(["check"], {"DEBUG": "true"}, tmp_path)
    assert first.returncode == 0, first.stderr
    key = (tmp_path / "field_encryption_key").read_text()
    secret = (tmp_path / "secret_key").read_text()
    again = _manage(["check"], {"DEBUG": "true"}, tmp_path)
    assert again.returncode == 0
    assert (tmp_path / "field_encryption_key").read_text() == key
    assert (tmp_path / "secret_key").read_text() == secret
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
