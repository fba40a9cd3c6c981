"""What a generation costs: the configured rate of the provider, model and resolution, times the
seconds of video, to a hundredth of a cent; everything else is free. Pure: no database."""

from decimal import Decimal

import pytest
from django.test import override_settings

from generation import costs
from nodes.types.base import Usage

PRICES = {
    "veo": {
        "veo-3.1-generate-preview": {"720p": 0.40, "1080p": 0.45, "4k": 0.60},
        "veo-3.1-fast-generate-preview": {"720p": 0.15, "4k": 0.35},
    }
}


@pytest.fixture(autouse=True)
def prices():
    with override_settings(VIDEO_PRICES=PRICES):
        yield


@pytest.mark.parametrize(
    ("model", "resolution", "seconds", "usd"),
    [
        ("veo-3.1-generate-preview", "720p", 8, "3.20"),
        ("veo-3.1-generate-preview", "1080p", 8, "3.60"),
        ("veo-3.1-generate-preview", "4k", 4, "2.40"),
        ("veo-3.1-fast-generate-preview", "720p", 6, "0.90"),
        ("veo-3.1-fast-generate-preview", "4k", 7, "2.45"),
    ],
)
def test_a_video_costs_its_rate_times_its_seconds(model, resolution, seconds, usd):
    assert costs.price(Usage("video", seconds, model=model, resolution=resolution), "veo") == Decimal(usd)


def test_a_resolution_without_its_own_rate_costs_the_720p_rate():
    usage = Usage("video", 8, model="veo-3.1-fast-generate-preview", resolution="1080p")

    assert costs.price(usage, "veo") == Decimal("1.20")


def test_a_model_without_its_own_rates_costs_the_first_model_s():
    usage = Usage("video", 8, model="veo-4-preview", resolution="4k")

    assert costs.price(usage, "veo") == Decimal("4.80")


def test_fractions_of_a_second_are_priced_to_a_hundredth_of_a_cent():
    usage = Usage("video", 7.123456, model="veo-3.1-generate-preview", resolution="720p")

    assert costs.price(usage, "veo") == Decimal("2.8494")  # 0.40 * 7.123456 = 2.8493824


@pytest.mark.parametrize("provider", ["local", "simulated", ""])
def test_a_provider_without_prices_costs_nothing(provider):
    assert costs.price(Usage("video", 8, model="veo-3.1-generate-preview", resolution="720p"), provider) == 0


@pytest.mark.parametrize("capability", ["text", "faces", "media"])
def test_only_video_is_priced(capability):
    assert costs.price(Usage(capability, 8, model="veo-3.1-generate-preview", resolution="720p"), "veo") == 0


def test_a_run_costs_the_sum_of_its_videos():
    usages = [
        Usage("video", 8, model="veo-3.1-generate-preview", resolution="720p"),
        Usage("text"),
        Usage("video", 7, model="veo-3.1-fast-generate-preview", resolution="720p"),
    ]

    assert costs.total(usages, "veo") == Decimal("4.25")
    assert costs.total([], "veo") == Decimal("0") and isinstance(costs.total([], "veo"), Decimal)


@pytest.mark.parametrize(
    ("model", "usd"), [("lyria-3-clip-preview", "0.04"), ("lyria-3.5", "0.08"), ("lyria-4-preview", "0.04")]
)
def test_music_costs_its_model_s_price_per_piece_whatever_its_length(model, usd):
    # An unlisted model costs the first model's price; offline music costs nothing.
    assert costs.price(Usage("music", items=1, model=model), "lyria") == Decimal(usd)
    assert costs.price(Usage("music", items=2, model=model), "lyria") == 2 * Decimal(usd)
    assert costs.price(Usage("music", items=1, model=model), "local") == 0
