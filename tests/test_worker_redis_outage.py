"""A worker that has finished a job waits for Redis to come back instead of quitting (RQ waits out
an outage only while it dequeues): the steps after a job go through `through_redis_outage`."""

import pytest
from django.test import override_settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from generation.worker import Worker, through_redis_outage


class Flaky:
    """Refuses `failures` times, as Redis does while it restarts, then answers."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return "done"


def test_a_short_outage_is_waited_out():
    flaky = Flaky(failures=2)

    with override_settings(REDIS_OUTAGE_SECONDS=10):
        assert through_redis_outage(flaky, "the test") == "done"
    assert flaky.calls == 3


def test_an_outage_longer_than_the_patience_ends_in_the_error():
    flaky = Flaky(failures=100)

    with override_settings(REDIS_OUTAGE_SECONDS=1), pytest.raises(RedisConnectionError):
        through_redis_outage(flaky, "the test")
    assert 2 <= flaky.calls < 100  # it tried again, and then gave up


def test_other_redis_errors_are_not_retried():
    def wrong():
        raise ResponseError("WRONGTYPE")

    with pytest.raises(ResponseError):
        through_redis_outage(wrong, "the test")


def test_the_worker_marks_itself_idle_and_beats_through_an_outage(redis, monkeypatch):
    worker = Worker(["default"], connection=redis)
    refusals = {"hset": 2}
    real_hset = redis.hset

    def hset(*args, **kwargs):
        if refusals["hset"]:
            refusals["hset"] -= 1
            raise RedisConnectionError("Connection refused.")
        return real_hset(*args, **kwargs)

    monkeypatch.setattr(redis, "hset", hset)
    with override_settings(REDIS_OUTAGE_SECONDS=10):
        worker.set_state("idle")

    assert refusals["hset"] == 0 and redis.hget(worker.key, "state") == b"idle"
