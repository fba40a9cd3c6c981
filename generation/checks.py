from django.core.checks import Warning, register

import providers


@register()
def providers_are_usable(app_configs, **kwargs):
    """Say at start-up, not at the first run, when a chosen provider cannot work."""
    return [
        Warning(
            f"The {row['capability']} provider {row['provider']!r} cannot work: {row['problem']}", id="reelgraph.W001"
        )
        for row in providers.status()
        if not row["ok"]
    ]
