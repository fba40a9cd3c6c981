import shutil
from decimal import Decimal

import django_rq
import pytest
from channels.layers import channel_layers
from django.conf import settings

from projects.models import Membership
from tests.factories import ProjectFactory, UserFactory
from tests.workers import Workers


def pytest_sessionstart(session):
    # Media of earlier test runs (the suite's own var/test folder only).
    shutil.rmtree(settings.VAR_DIR / "media", ignore_errors=True)


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test gets its own channel layer. The Redis layer keeps receive state (a lock, a count of
    receivers, the event loop they run on) between calls; a consumer of an earlier test's event loop
    that ended mid-receive left that state behind, and a later test's consumer then died with "Lock
    is bound to a different event loop" (seen once in CI)."""
    channel_layers.backends.pop("default", None)
    yield
    channel_layers.backends.pop("default", None)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def project(alice):
    """Alice's project; bob is an outsider unless a test adds him."""
    return ProjectFactory(owner=alice, name="Alice's film")


@pytest.fixture
def add_member(project):
    def add(user, role=Membership.Role.VIEWER):
        return Membership.objects.create(project=project, user=user, role=role)

    return add


@pytest.fixture
def redis():
    """The test run's own embedded Redis, emptied around each test that uses queues or channels."""
    connection = django_rq.get_connection("default")
    connection.flushdb()
    yield connection
    connection.flushdb()


# Each test's reports by phase ("setup", "call", "teardown"), for fixtures that explain a failure.
OUTCOMES = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(OUTCOMES, {})[report.when] = report
    return report


@pytest.fixture
def workers(redis, request):
    """Start real rqworker processes with `workers.start(count, **env)`; all stop after the test.
    When the test failed, their logs are printed, so the report shows what the workers did."""
    started = Workers()
    yield started
    started.stop_all()
    call = request.node.stash.get(OUTCOMES, {}).get("call")
    if started.started and call is not None and call.failed:
        print(started.logs())


@pytest.fixture
def quota_limits(settings):
    """Every per-user limit off; a test turns on the one it checks. Video is priced like Veo (simulated)."""
    settings.MAX_CONCURRENT_GENERATIONS = 0
    settings.DAILY_SPEND_LIMIT_USD = Decimal("0")
    settings.RUN_RATE_LIMIT = None
    settings.PROVIDERS = {**settings.PROVIDERS, "video": "simulated"}
    return settings
