"""What one user may start: video generations at once, estimated spend per day, runs per period.

The first two are checked when a run is written, under a per-user transaction lock in PostgreSQL,
so requests racing each other (even in different projects, on different web servers) are counted
one after the other and cannot overshoot. The rate of runs is a sliding window kept in Redis by one
Lua script, which Redis runs atomically. A refusal is a 429 naming the limit and when it resets.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import django_rq
from django.conf import settings
from django.db import connection
from django.db.models import Case, DecimalField, F, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis.exceptions import RedisError

from config.errors import ApiError
from generation.models import Job

logger = logging.getLogger(__name__)

# The queue of the node types that generate video (Video and Extend): what a provider limits and bills.
GENERATION_QUEUE = "video"


class QuotaExceeded(ApiError):
    status = 429
    code = "quota_exceeded"

    def __init__(self, limit: str, message: str, *, resets_at: datetime | None, **details) -> None:
        super().__init__(
            message,
            details={
                "limit": limit,
                "resets_at": resets_at.isoformat() if resets_at else None,
                "retry_after_seconds": _seconds_until(resets_at) if resets_at else None,
                **details,
            },
        )


# Concurrent generations and daily spend: checked while the run is written ------------------------


def check_run(user, new_jobs: list[tuple[str, Decimal]]) -> None:
    """Refuse a run whose new jobs (queue, estimated cost) would take `user` over a limit.

    Call inside the transaction that creates the jobs: the lock taken here is held until it commits.
    """
    if user is None or not user.pk:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('reelgraph.quota'), %s)", [user.pk])
    mine = Job.objects.filter(created_by=user)
    _check_concurrency(mine, sum(1 for queue, _ in new_jobs if queue == GENERATION_QUEUE))
    _check_spend(mine, sum((cost for _, cost in new_jobs), Decimal("0")))


def _check_concurrency(mine, requested: int) -> None:
    allowed = settings.MAX_CONCURRENT_GENERATIONS
    if not allowed or not requested:
        return
    in_use = mine.filter(queue=GENERATION_QUEUE, status__in=Job.ACTIVE).count()
    if in_use + requested <= allowed:
        return
    raise QuotaExceeded(
        "concurrent_generations",
        f"This run needs {_videos(requested)} and you have {_videos(in_use)} under way; "
        f"at most {allowed} may run at once. Wait for one to finish (or cancel one), then run again.",
        resets_at=None,
        allowed=allowed,
        in_use=in_use,
        requested=requested,
    )


def spent_today(mine) -> Decimal:
    """Estimated USD of today's (UTC) jobs: what finished ones cost, what unfinished ones will."""
    since = _midnight()
    money = DecimalField(max_digits=12, decimal_places=4)
    cost = Case(
        When(status__in=Job.ACTIVE, then=F("cost_estimate")),
        default=Coalesce(F("cost_actual"), Decimal("0"), output_field=money),
        output_field=money,
    )
    return mine.filter(created_at__gte=since).aggregate(spent=Coalesce(Sum(cost), Decimal("0"), output_field=money))[
        "spent"
    ]


def _check_spend(mine, requested: Decimal) -> None:
    allowed = settings.DAILY_SPEND_LIMIT_USD
    if not allowed or not requested:
        return
    spent = spent_today(mine)
    if spent + requested <= allowed:
        return
    resets_at = _midnight() + timedelta(days=1)
    raise QuotaExceeded(
        "daily_spend",
        f"This run would cost an estimated ${requested:.2f}; you have spent ${spent:.2f} of your "
        f"${allowed:.2f} a day. The daily limit resets at 00:00 UTC ({_in(resets_at)}).",
        resets_at=resets_at,
        allowed=str(allowed),
        spent=str(spent.quantize(Decimal("0.01"))),
        requested=str(requested.quantize(Decimal("0.01"))),
    )


# Runs per period: a sliding window in Redis ------------------------------------------------------

# KEYS[1]: the user's window; ARGV: now (ms), period (ms), limit, a unique member.
# Returns {1, 0} when the run is let through, else {0, ms until the oldest run leaves the window}.
SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + ARGV[2] - ARGV[1]}
"""


def check_run_rate(user) -> None:
    """Count one run request of `user`; refuse it when the window is full. Redis down lets it through
    (the database limits above still hold) rather than refusing all work."""
    if settings.RUN_RATE_LIMIT is None:
        return
    count, period = settings.RUN_RATE_LIMIT
    seconds = settings.RATE_PERIODS[period]
    try:
        redis = django_rq.get_connection("default")
        allowed, wait_ms = redis.register_script(SLIDING_WINDOW)(
            keys=[f"reelgraph:rate:runs:{user.pk}"],
            args=[int(time.time() * 1000), seconds * 1000, count, uuid.uuid4().hex],
        )
    except RedisError:
        logger.warning("run rate limit not checked: Redis is unavailable", exc_info=True)
        return
    if allowed:
        return
    resets_at = timezone.now() + timedelta(milliseconds=int(wait_ms))
    raise QuotaExceeded(
        "run_rate",
        f"Too many runs started: at most {count} per {period}. You can start the next one {_in(resets_at)}.",
        resets_at=resets_at,
        allowed=count,
        period_seconds=seconds,
    )


def _midnight() -> datetime:
    return timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _videos(count: int) -> str:
    return f"{count} video generation{'' if count == 1 else 's'}"


def _seconds_until(moment: datetime) -> int:
    """Whole seconds from now until `moment`, rounded up, at least 1: what a client should wait."""
    return max(1, int((moment - timezone.now()).total_seconds() + 0.999))


def _in(moment: datetime) -> str:
    seconds = _seconds_until(moment)
    if seconds < 120:
        return f"in {seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"in {minutes} min"
    return f"in {minutes // 60} h {minutes % 60} min"
