"""The back office's metrics: jobs, spend, generation times, cache hits and identity drift.

Each figure is one query over what the engine already records (jobs, runs' plans, takes), so the
page and the database cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from generation.models import Job, Run
from nodes.models import Take

STATUSES = [Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELED, *Job.ACTIVE]


@dataclass
class Metrics:
    since: date
    days: list[date]
    jobs_per_day: dict[date, dict[str, int]]  # day -> status -> count
    spend_per_day: dict[date, Decimal]
    spend_per_user: list[tuple[str, Decimal]]
    timings: list[dict]  # provider, model, jobs, median, p95 (seconds)
    planned_nodes: int
    cached_nodes: int
    drift_checked: int
    drifted: int

    @property
    def cache_hit_rate(self) -> float | None:
        return self.cached_nodes / self.planned_nodes if self.planned_nodes else None

    @property
    def drift_rate(self) -> float | None:
        return self.drifted / self.drift_checked if self.drift_checked else None

    @property
    def total_spend(self) -> Decimal:
        return sum(self.spend_per_day.values(), Decimal(0))


def collect(days: int = 30) -> Metrics:
    today = timezone.localdate()
    since = today - timedelta(days=days - 1)
    jobs = Job.objects.filter(created_at__date__gte=since)

    jobs_per_day: dict[date, dict[str, int]] = {}
    for row in jobs.annotate(day=TruncDate("created_at")).values("day", "status").annotate(n=Count("id")):
        jobs_per_day.setdefault(row["day"], {})[row["status"]] = row["n"]

    spent = jobs.filter(cost_actual__isnull=False)
    spend_per_day = {
        row["day"]: row["usd"]
        for row in spent.annotate(day=TruncDate("created_at")).values("day").annotate(usd=Sum("cost_actual"))
    }
    spend_per_user = [
        (row["created_by__username"] or "(deleted user)", row["usd"])
        for row in spent.values("created_by__username").annotate(usd=Sum("cost_actual")).order_by("-usd")
    ]

    planned = cached = 0
    for plan in Run.objects.filter(created_at__date__gte=since).values_list("plan", flat=True):
        planned += len(plan)
        cached += sum(1 for entry in plan if entry.get("action") == "cached")

    takes = Take.objects.filter(created_at__date__gte=since, details__has_key="identity_drift")
    drift = takes.aggregate(checked=Count("id"), drifted=Count("id", filter=Q(details__identity_drift=True)))

    return Metrics(
        since=since,
        days=[since + timedelta(days=offset) for offset in range(days)],
        jobs_per_day=jobs_per_day,
        spend_per_day=spend_per_day,
        spend_per_user=spend_per_user,
        timings=_timings(since),
        planned_nodes=planned,
        cached_nodes=cached,
        drift_checked=drift["checked"],
        drifted=drift["drifted"],
    )


def _timings(since: date) -> list[dict]:
    """Median and 95th percentile of succeeded jobs' generation time, per provider and model."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT provider, model, count(*),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at)),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))
            FROM generation_job
            WHERE status = %s AND started_at IS NOT NULL AND finished_at IS NOT NULL
              AND created_at >= %s
            GROUP BY provider, model
            ORDER BY provider, model
            """,
            [Job.Status.SUCCEEDED, timezone.make_aware(datetime.combine(since, time.min))],
        )
        return [
            {"provider": provider or "(none)", "model": model or "—", "jobs": count, "median": median, "p95": p95}
            for provider, model, count, median, p95 in cursor.fetchall()
        ]
