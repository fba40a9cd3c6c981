"""Asset moved to the `assets` app with its table unchanged: the relation changes in Django's
picture only."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0001_initial"),
        ("generation", "0003_alter_job_node_alter_job_status_alter_run_status"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="report",
                    name="assets",
                    field=models.ManyToManyField(blank=True, related_name="reports", to="assets.asset"),
                ),
            ],
            database_operations=[],
        ),
    ]
