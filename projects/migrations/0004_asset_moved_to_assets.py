"""Asset now lives in the `assets` app (same table): remove it from this app's picture only."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0003_asset_hidden_at_asset_hidden_reason"),
        ("characters", "0007_assets_moved"),
        ("generation", "0004_assets_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Asset")],
            database_operations=[],
        ),
    ]
