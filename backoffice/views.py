"""Back-office pages beyond the model admins: the metrics page."""

from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.template.response import TemplateResponse

from backoffice import metrics
from backoffice.charts import stacked_bars


@permission_required("generation.view_job", raise_exception=True)
def metrics_page(request):
    days = min(max(int(request.GET.get("days", 30) or 30), 1), 365) if request.GET.get("days", "30").isdigit() else 30
    data = metrics.collect(days)
    labels = [day.strftime("%d %b") for day in data.days]
    jobs_chart = stacked_bars(
        labels,
        {status: [data.jobs_per_day.get(day, {}).get(status, 0) for day in data.days] for status in metrics.STATUSES},
    )
    spend_chart = stacked_bars(
        labels, {"value": [float(data.spend_per_day.get(day, 0)) for day in data.days]}, unit="$"
    )
    users = data.spend_per_user[:15]
    users_chart = stacked_bars([name for name, _ in users], {"value": [float(usd) for _, usd in users]}, unit="$")
    timing_chart = stacked_bars(
        [f"{row['provider']} {row['model']}" for row in data.timings],
        {
            "median": [row["median"] for row in data.timings],
            "p95 extra": [row["p95"] - row["median"] for row in data.timings],
        },
    )
    rows = [
        {"day": day, "counts": [data.jobs_per_day.get(day, {}).get(status, 0) for status in metrics.STATUSES],
         "spend": data.spend_per_day.get(day, 0)}
        for day in reversed(data.days)
        if day in data.jobs_per_day or day in data.spend_per_day
    ]  # fmt: skip
    return TemplateResponse(
        request,
        "admin/reelgraph/metrics.html",
        {
            **admin.site.each_context(request),
            "title": f"Metrics: the last {days} days",
            "days": days,
            "metrics": data,
            "statuses": metrics.STATUSES,
            "rows": rows,
            "charts": {"jobs": jobs_chart, "spend": spend_chart, "users": users_chart, "timings": timing_chart},
        },
    )
