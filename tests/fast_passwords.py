"""A pytest plugin for mutation runs only (`[tool.mutmut] pytest_add_cli_args`): test users get a
fast password hash. Django's default hasher takes most of a second per user by design, which is most
of the time of a short test, and mutmut runs each test once per mutant. No test here checks hashing
strength; normal test runs keep the default hasher."""

from django.conf import settings


def pytest_configure(config):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
