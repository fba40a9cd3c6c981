"""What generations cost: prices are configuration (settings.VIDEO_PRICES, IMAGE_PRICES, MUSIC_PRICES),
never code."""

from decimal import Decimal

from django.conf import settings

from nodes.types.base import Usage

CENT = Decimal("0.0001")


def price(usage: Usage, provider: str) -> Decimal:
    """USD for one usage with the given provider; offline providers cost nothing."""
    if usage.capability == "image":
        return _per_item_price(settings.IMAGE_PRICES, usage, provider)
    if usage.capability == "music":
        return _per_item_price(settings.MUSIC_PRICES, usage, provider)
    if usage.capability != "video" or provider not in settings.VIDEO_PRICES:
        return Decimal("0")
    by_model = settings.VIDEO_PRICES[provider]
    rates = by_model.get(usage.model) or next(iter(by_model.values()))
    rate = Decimal(str(rates.get(usage.resolution) or rates["720p"]))
    return (rate * Decimal(str(usage.video_seconds))).quantize(CENT)


def total(usages: list[Usage], provider: str) -> Decimal:
    return sum((price(usage, provider) for usage in usages), Decimal("0"))


def _per_item_price(prices: dict, usage: Usage, provider: str) -> Decimal:
    """An image's or a piece of music's price: per item made, by provider and model."""
    by_model = prices.get(provider)
    if not by_model:
        return Decimal("0")
    rate = by_model.get(usage.model) or next(iter(by_model.values()))  # an unlisted model: the first's price
    return (Decimal(str(rate)) * usage.items).quantize(CENT)
