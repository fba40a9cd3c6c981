"""Settings come from the environment; production refuses to start without its secrets."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

SETUP = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def start_django(**environment) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_ENV")}
    # Point at servers that need not exist: settings never connect at import.
    env |= {"DATABASE_URL": "postgres://u@127.0.0.1:1/x", "REDIS_URL": "redis://127.0.0.1:1/0"}
    env |= environment
    return subprocess.run(
        [sys.executable, "-c", SETUP],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_a_secret_key_is_a_startup_error():
    result = start_django(DJANGO_ENV="production")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DJANGO_ENV=production" in result.stderr


def test_production_with_its_secrets_starts_with_debug_off():
    result = start_django(DJANGO_ENV="production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="reelgraph.example")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_an_unknown_provider_choice_names_the_variable_and_the_choices():
    result = start_django(REELGRAPH_VIDEO_PROVIDER="sora")

    assert result.returncode != 0
    assert "REELGRAPH_VIDEO_PROVIDER='sora': choose one of local, simulated, veo" in result.stderr


@pytest.mark.parametrize("value", ["staging", "prod"])
def test_an_unknown_environment_is_refused(value):
    result = start_django(DJANGO_ENV=value)

    assert "DJANGO_ENV must be 'development' or 'production'" in result.stderr


def test_development_keeps_one_generated_secret_key_under_var(tmp_path):
    var_dir = tmp_path / "var"
    first = start_django(REELGRAPH_VAR_DIR=str(var_dir))
    key_file = var_dir / "secret_key"
    key = key_file.read_text()

    second = start_django(REELGRAPH_VAR_DIR=str(var_dir))

    assert first.returncode == second.returncode == 0
    assert len(key) >= 50 and key_file.read_text() == key
    assert key_file.stat().st_mode & 0o777 == 0o600
