"""Production mode: the deploy checks pass, and pages go out with HTTPS-only cookies, HSTS and a
script policy, DEBUG off."""

import json
import os
import subprocess
import sys

from django.conf import settings

from tests.workers import test_database_url as database_url_of_tests

PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k3y-" + "a1B2c3D4e5F6g7H8i9J0" * 3,
    "ALLOWED_HOSTS": "reelgraph.example,testserver",
    "REDIS_URL": settings.REDIS_URL,
}

REQUESTS = """
import json, django
django.setup()
from django.test import Client
client = Client()
plain = client.get("/accounts/login/")
secure = client.get("/accounts/login/", secure=True)
missing = client.get("/no-such-page/", secure=True)
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "status": secure.status_code,
    "headers": dict(secure.headers),
    "cookies": {name: dict(morsel) for name, morsel in secure.cookies.items()},
    "missing": [missing.status_code, "Traceback" in missing.content.decode()],
}))
"""


def run(command, tmp_path, **extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env |= PRODUCTION | {"DATABASE_URL": database_url_of_tests(), "STATIC_ROOT": str(tmp_path / "static")} | extra
    return subprocess.run(
        command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_deploy_checks_pass_in_production(tmp_path):
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_pages_are_https_only_with_a_script_policy_and_no_debug(tmp_path):
    collected = run([sys.executable, "manage.py", "collectstatic", "--noinput"], tmp_path)
    assert collected.returncode == 0, collected.stderr

    result = run([sys.executable, "-c", REQUESTS], tmp_path, DJANGO_SETTINGS_MODULE="config.settings")

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://testserver/accounts/login/"]
    assert seen["status"] == 200
    headers = seen["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert seen["cookies"]["csrftoken"]["secure"] is True
    assert seen["missing"] == [404, False]  # DEBUG off: no traceback, no settings
