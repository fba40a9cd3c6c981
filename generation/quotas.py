"""What one user may start: estimated spend per day, runs per period, and video generations at once.

The daily spend is checked when a run is written, under a per-user transaction lock in PostgreSQL,
so requests racing each other (even in different projects, on different web servers) are counted
one after the other and cannot overshoot. The rate of runs is a sliding window kept in Redis by one
Lua script, which Redis runs atomically. A refusal is a 429 naming the limit and when it resets.

Video generations at once are not refused: a run may need more than the limit (a storyboard with
variations does). Each video job takes one of its owner's generation slots when it is ready to run;
with none free it waits for one (`Job.waits_for_slot`), and the slots a generation gives back when it
ends go to the owner's oldest waiting jobs (`admit`), under the same per-user lock, so two endings at
once cannot overshoot either.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import django_rq
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, DecimalField, F, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis.exceptions import RedisError

from config.errors import ApiError
from generation import announce, queues
from generation.models import Job
from nodes.models import Node

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


# Daily spend: checked while the run is written ---------------------------------------------------


def check_run(user, new_jobs: list[tuple[str, Decimal]]) -> None:
    """Refuse a run whose new jobs (queue, estimated cost) would take `user` over the daily spend.

    Call inside the transaction that creates the jobs: the lock taken here is held until it commits.
    """
    if user is None or not user.pk:
        return
    _lock(user.pk)
    _check_spend(Job.objects.filter(created_by=user), sum((cost for _, cost in new_jobs), Decimal("0")))


def _lock(user_pk: int) -> None:
    """The user's quota lock, held until the transaction ends: their runs and slots, one at a time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('reelgraph.quota'), %s)", [user_pk])


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


# Generation slots: video jobs queued or running at once, per user ---------------------------------


def admit(ready: Iterable[Job] = (), *, freed: Iterable[Job] = (), announce_held: bool = True) -> list[Job]:
    """Let `ready` jobs (their inputs exist) run, and hand on the slots `freed` jobs (just ended) gave back.

    A job that makes no video is queued at once. A video job takes a slot of its owner or, with none
    free, waits for one (status waiting, `waits_for_slot`, a label saying so, announced unless
    `announce_held` is False because the caller announces the node itself). Free slots go to the
    owner's oldest waiting jobs, across projects. Call inside the transaction that made the jobs
    ready or ended the freed ones; it returns the jobs it queued, for the caller to enqueue on commit
    once it has announced the rest (a worker's "running" must not overtake "queued").
    """
    ready = list(ready)
    direct = [job for job in ready if not _needs_slot(job)]
    held = [job for job in ready if _needs_slot(job)]
    _record(direct, status=Job.Status.QUEUED, waits_for_slot=False)
    _record(held, status=Job.Status.WAITING, waits_for_slot=True)
    owners = {job.created_by_id for job in held}
    owners |= {job.created_by_id for job in freed if job.queue == GENERATION_QUEUE and job.created_by_id}
    admitted = []
    for owner in sorted(owners):  # one order for everyone: two admissions never wait on each other's locks
        admitted += _fill_slots(owner, held, announce_held=announce_held)
    return direct + admitted


def admit_waiting() -> int:
    """Fill every free slot of every user with jobs waiting for one: the reconciler's pass, so that a
    slot no ending handed on (the limit was raised; a waiting row was skipped while a cancel held it,
    and the cancel rolled back) is not lost. Returns how many jobs were queued."""
    owners = (
        Job.objects.filter(status=Job.Status.WAITING, waits_for_slot=True)
        .order_by()
        .values_list("created_by_id", flat=True)
    )
    admitted = 0
    for owner in sorted(set(owners), key=lambda pk: pk or 0):
        with transaction.atomic():
            queued = _fill_slots(owner, [])
            queues.enqueue_on_commit(queued)
        admitted += len(queued)
    return admitted


def slots_in_use(owner_pk) -> int:
    """A slot is held by a video job queued or running (a waiting one holds none yet)."""
    return Job.objects.filter(
        created_by_id=owner_pk, queue=GENERATION_QUEUE, status__in=(Job.Status.QUEUED, Job.Status.RUNNING)
    ).count()


def waiting_label(in_use: int, allowed: int) -> str:
    return f"Waiting for a free generation slot ({in_use} of {allowed} in use)"


def _needs_slot(job: Job) -> bool:
    return bool(settings.MAX_CONCURRENT_GENERATIONS) and job.queue == GENERATION_QUEUE and job.created_by_id is not None


def _record(jobs: list[Job], **fields) -> None:
    """Write `fields` to the jobs' rows and to the objects the caller holds."""
    if not jobs:
        return
    Job.objects.filter(pk__in=[job.pk for job in jobs]).update(**fields)
    for job in jobs:
        for name, value in fields.items():
            setattr(job, name, value)


def _fill_slots(owner_pk, just_held: list[Job], *, announce_held: bool = True) -> list[Job]:
    """Queue `owner_pk`'s oldest jobs waiting for a slot, as many as are free; label the ones of
    `just_held` left waiting. A job without an owner (deleted since) waits for nobody."""
    allowed = settings.MAX_CONCURRENT_GENERATIONS if owner_pk is not None else 0
    if allowed:
        _lock(owner_pk)
    waiting = Job.objects.filter(created_by_id=owner_pk, status=Job.Status.WAITING, waits_for_slot=True)
    in_use = slots_in_use(owner_pk) if allowed else 0
    free = max(0, allowed - in_use) if allowed else None
    # A row locked by someone else is being canceled (or ended): skipped, never waited for, so this
    # lock holder waits on no row and cannot deadlock with an ending that waits for the lock.
    chosen = list(waiting.select_for_update(skip_locked=True).order_by("created_at", "id")[:free])
    mine = {job.pk: job for job in just_held if job.created_by_id == owner_pk}
    # The caller's own objects of the jobs it just made ready, so what it announces next is true.
    chosen = [mine.get(job.pk, job) for job in chosen]
    _record(chosen, status=Job.Status.QUEUED, waits_for_slot=False, progress_label="")
    admitted = {job.pk for job in chosen}
    still_held = [job for pk, job in mine.items() if pk not in admitted]
    _record(still_held, progress_label=waiting_label(in_use + len(chosen), allowed))
    _announce([job for job in chosen if job.pk not in mine] + (still_held if announce_held else []))
    return chosen


def _announce(jobs: list[Job]) -> None:
    """Show the jobs' nodes as they are now: waiting for a slot (with the label), or queued. A node's card
    shows its first take's job; a further take's shows in its row of takes when it ends."""
    jobs = [job for job in jobs if job.variation == 1]
    nodes = Node.objects.select_related("selected_take").in_bulk([job.node_id for job in jobs if job.node_id])
    for job in jobs:
        if job.node_id in nodes:
            announce.node_status(nodes[job.node_id], job)


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
