from pathlib import Path

from assets.models import Asset


def asset_path(asset_id) -> Path:
    return Path(Asset.objects.get(pk=asset_id).file.path)
