"""Edges into a multi-valued port all got order 0 (a bug in connect): number them by creation time."""

from django.db import migrations


def renumber_ties(apps, schema_editor):
    Edge = apps.get_model("nodes", "Edge")
    groups: dict[tuple, list] = {}
    for edge in Edge.objects.order_by("target_id", "target_port", "order", "created_at", "id"):
        groups.setdefault((edge.target_id, edge.target_port), []).append(edge)
    changed = []
    for edges in groups.values():
        orders = [edge.order for edge in edges]
        if len(set(orders)) == len(orders):
            continue  # no ties: the user's order stands
        for position, edge in enumerate(edges):
            edge.order = position
        changed += edges
    Edge.objects.bulk_update(changed, ["order"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("nodes", "0001_initial")]

    operations = [migrations.RunPython(renumber_ties, migrations.RunPython.noop)]
