"""The rules of the video-making node types, as the user meets them: which problem, on which field or
port, in which words, and exactly where each rule's boundary lies; and the facts each type tells the
nodes downstream (how long a video will be, whether Veo can still extend it). Pure Python.

Written against the survivors of a mutation run of nodes/types/video.py, extend.py and stitch.py
(docs/TESTING.md): each test pins behaviour that a plausible small bug changed unnoticed."""

import pytest

from nodes.graph import Graph
from nodes.registry import NODE_TYPES
from nodes.types.veo import MAX_EXTENDABLE_SECONDS, MAX_EXTENSIONS
from tests.test_graph import ASSET, edge, node

VIDEO, EXTEND, STITCH = NODE_TYPES["video"], NODE_TYPES["extend"], NODE_TYPES["stitch"]
FAST = "veo-3.1-fast-generate-preview"
USE_LAST_FRAME = "set the mode to last_frame, which extends any video"


def problems_of(graph, node_id):
    return [(p.code, p.port, p.field, p.message) for p in graph.validate().problems if p.node_id == node_id]


def video_graph(*, frames=(), characters=0, **params):
    """A prompt into a video node, with images on the given frame ports and `characters` characters."""
    nodes = [node("t", "prompt", text="x"), node("v", "video", **params)]
    edges = [edge("t", "text", "v", "prompt")]
    for port in frames:
        nodes.append(node(port, "image", asset_id=ASSET))
        edges.append(edge(port, "image", "v", port))
    for number in range(characters):
        nodes.append(node(f"c{number}", "image", asset_id=ASSET))
        edges.append(edge(f"c{number}", "character", "v", "characters", number))
    return Graph(nodes, edges)


# Video: resolution and duration ------------------------------------------------------------------


@pytest.mark.parametrize("resolution", ["1080p", "4k"])
@pytest.mark.parametrize("duration", [4, 6])
def test_1080p_and_4k_videos_must_be_8_seconds(resolution, duration):
    assert problems_of(video_graph(resolution=resolution, duration_seconds=duration), "v") == [
        (
            "veo_rule",
            None,
            "duration_seconds",
            f"{resolution} videos are 8 seconds long: set the duration to 8 s or the resolution to 720p.",
        )
    ]


@pytest.mark.parametrize(("resolution", "duration"), [("1080p", 8), ("4k", 8), ("720p", 4), ("720p", 6)])
def test_8_second_high_resolution_and_any_720p_duration_are_allowed(resolution, duration):
    assert problems_of(video_graph(resolution=resolution, duration_seconds=duration), "v") == []


# Video: frames -------------------------------------------------------------------------------------


def test_a_last_frame_alone_names_its_port_and_the_fix():
    assert problems_of(video_graph(frames=["last_frame"]), "v") == [
        (
            "veo_rule",
            "last_frame",
            None,
            "A last frame needs a first frame: connect an image to First frame as well, or remove the last frame.",
        )
    ]


@pytest.mark.parametrize("duration", [4, 6])
def test_first_and_last_frames_make_an_8_second_video(duration):
    assert problems_of(video_graph(frames=["first_frame", "last_frame"], duration_seconds=duration), "v") == [
        (
            "veo_rule",
            None,
            "duration_seconds",
            "A video from a first and a last frame is 8 seconds long: set the duration to 8 s, "
            "or remove the last frame.",
        )
    ]


def test_every_broken_rule_of_a_video_is_reported_at_once_in_order():
    graph = video_graph(frames=["first_frame", "last_frame"], resolution="4k", duration_seconds=6)

    assert [field for _, _, field, _ in problems_of(graph, "v")] == ["duration_seconds", "duration_seconds"]
    assert [message.split(":")[0] for *_, message in problems_of(graph, "v")] == [
        "4k videos are 8 seconds long",
        "A video from a first and a last frame is 8 seconds long",
    ]


# Video: characters ---------------------------------------------------------------------------------


def test_characters_with_an_8_second_16_9_video_of_the_standard_model_are_fine():
    assert problems_of(video_graph(characters=3), "v") == []


def test_characters_name_each_rule_they_break_with_its_field_and_fix():
    graph = video_graph(characters=1, frames=["first_frame"], duration_seconds=6, aspect_ratio="9:16", model=FAST)

    assert problems_of(graph, "v") == [
        (
            "veo_rule",
            "characters",
            None,
            "Characters cannot be combined with a first or last frame: disconnect one or the other.",
        ),
        ("veo_rule", None, "duration_seconds", "With characters the video is 8 seconds long: set the duration to 8 s."),
        ("veo_rule", None, "aspect_ratio", "With characters the video is 16:9: set the aspect ratio to 16:9."),
        (
            "veo_rule",
            None,
            "model",
            f"{FAST} does not take characters: choose veo-3.1-generate-preview.",
        ),
    ]


def test_characters_with_only_a_last_frame_are_refused_for_the_frame_too():
    found = problems_of(video_graph(characters=1, frames=["last_frame"]), "v")

    assert [port for _, port, _, _ in found] == ["last_frame", "characters"]


def test_character_problems_come_after_the_video_s_own():
    found = problems_of(video_graph(characters=1, resolution="1080p", duration_seconds=6), "v")

    assert [message.split(":")[0] for *_, message in found] == [
        "1080p videos are 8 seconds long",
        "With characters the video is 8 seconds long",
    ]


# Video: what it tells the nodes downstream ----------------------------------------------------------


def test_a_video_describes_its_clip_and_its_last_frame():
    facts = VIDEO.describe(VIDEO.Params(resolution="1080p", aspect_ratio="9:16", duration_seconds=8), {})

    assert facts == {
        "video": {
            "resolution": "1080p",
            "aspect_ratio": "9:16",
            "duration": 8,
            "base_duration": 8,
            "veo_extensions": 0,
            "veo_extendable": True,
        },
        "last_frame": {"aspect_ratio": "9:16"},
    }


# Extend: what Veo can extend -------------------------------------------------------------------------


def extend_problems(source_facts, **params):
    found = EXTEND.check(EXTEND.Params(**params), {"video": [source_facts]} if source_facts is not None else {})
    return [(p.code, p.port, p.field, p.message) for p in found]


VEO_VIDEO = {"resolution": "720p", "duration": 8, "base_duration": 8, "veo_extensions": 0, "veo_extendable": True}


def test_a_veo_video_of_8_seconds_at_720p_can_be_extended():
    assert extend_problems(VEO_VIDEO) == []


def test_without_a_source_or_in_last_frame_mode_nothing_is_checked():
    assert extend_problems(None) == []
    assert extend_problems({"uploaded": True}, mode="last_frame") == []
    assert extend_problems({**VEO_VIDEO, "resolution": "4k", "veo_extensions": 30}, mode="last_frame") == []


def test_an_uploaded_clip_cannot_be_extended_by_veo():
    assert extend_problems({"uploaded": True, "veo_extendable": False}) == [
        (
            "veo_rule",
            None,
            "mode",
            "Veo can only extend videos Veo made, not an uploaded clip: "
            "set the mode to last_frame, which extends any video.",
        )
    ]


@pytest.mark.parametrize("facts", [{}, {"veo_extendable": False}])
def test_a_video_veo_did_not_make_cannot_be_extended_by_veo(facts):
    assert extend_problems(facts) == [
        ("veo_rule", None, "mode", f"Veo can only extend a video Veo made: {USE_LAST_FRAME}.")
    ]


@pytest.mark.parametrize("resolution", ["1080p", "4k"])
def test_veo_extends_720p_only(resolution):
    assert extend_problems({**VEO_VIDEO, "resolution": resolution}) == [
        ("veo_rule", None, "mode", f"Veo extends 720p videos only: make the source 720p, or {USE_LAST_FRAME}.")
    ]


@pytest.mark.parametrize("base", [4, 6])
def test_veo_extends_videos_generated_at_8_seconds_only(base):
    assert extend_problems({**VEO_VIDEO, "base_duration": base}) == [
        (
            "veo_rule",
            None,
            "mode",
            f"Veo extends videos generated at 8 seconds only: set the source to 8 s, or {USE_LAST_FRAME}.",
        )
    ]


def test_missing_facts_about_resolution_and_base_duration_mean_720p_and_8_seconds():
    assert extend_problems({"veo_extendable": True}) == []


def test_the_20th_extension_is_allowed_and_the_21st_names_the_count_and_the_limit():
    assert extend_problems({**VEO_VIDEO, "veo_extensions": MAX_EXTENSIONS - 1}) == []
    assert extend_problems({**VEO_VIDEO, "veo_extensions": MAX_EXTENSIONS}) == [
        (
            "veo_extension_limit",
            None,
            "mode",
            f"This would be Veo extension {MAX_EXTENSIONS + 1} of one video; Veo allows {MAX_EXTENSIONS}: "
            f"{USE_LAST_FRAME}.",
        )
    ]


def test_a_video_up_to_141_seconds_can_be_extended_and_a_longer_one_cannot():
    assert extend_problems({**VEO_VIDEO, "duration": MAX_EXTENDABLE_SECONDS}) == []
    assert extend_problems({**VEO_VIDEO, "duration": MAX_EXTENDABLE_SECONDS + 1}) == [
        ("veo_rule", None, "mode", f"Veo extends videos up to {MAX_EXTENDABLE_SECONDS} s long: {USE_LAST_FRAME}.")
    ]


def test_every_broken_extension_rule_is_reported_together():
    facts = {**VEO_VIDEO, "resolution": "1080p", "base_duration": 6, "veo_extensions": MAX_EXTENSIONS}

    assert [code for code, *_ in extend_problems(facts)] == ["veo_rule", "veo_rule", "veo_extension_limit"]


def test_a_chain_of_veo_extensions_stops_at_the_21st():
    nodes = [node("t", "prompt", text="x"), node("v", "video")]
    edges = [edge("t", "text", "v", "prompt")]
    previous = "v"
    for number in range(1, MAX_EXTENSIONS + 2):
        nodes.append(node(f"e{number}", "extend", prompt_text="on"))
        edges.append(edge(previous, "video", f"e{number}", "video"))
        previous = f"e{number}"
    graph = Graph(nodes, edges)

    refused = {p.node_id for p in graph.validate().problems}
    assert refused == {f"e{MAX_EXTENSIONS + 1}"}


# Extend: what it tells the nodes downstream ---------------------------------------------------------


def test_a_veo_extension_adds_7_seconds_and_counts_itself():
    facts = EXTEND.describe(EXTEND.Params(mode="veo"), {"video": [{**VEO_VIDEO, "veo_extensions": 2}]})

    assert facts == {
        "video": {**VEO_VIDEO, "duration": 15, "veo_extensions": 3, "veo_extendable": True},
        "clip": {**VEO_VIDEO, "duration": 7, "veo_extensions": 0, "veo_extendable": False, "uploaded": False},
    }


@pytest.mark.parametrize("duration", [4, 6, 8])
def test_a_last_frame_continuation_adds_its_own_duration_and_is_no_longer_veo_s(duration):
    facts = EXTEND.describe(EXTEND.Params(mode="last_frame", duration_seconds=duration), {"video": [VEO_VIDEO]})

    assert facts == {
        "video": {**VEO_VIDEO, "duration": 8 + duration, "veo_extensions": 0, "veo_extendable": False},
        "clip": {**VEO_VIDEO, "duration": duration, "veo_extensions": 0, "veo_extendable": True, "uploaded": False},
    }


def test_extending_a_video_veo_cannot_extend_keeps_it_unextendable():
    facts = EXTEND.describe(EXTEND.Params(mode="veo"), {"video": [{"veo_extendable": False}]})

    assert facts["video"] == {"veo_extendable": False, "duration": 7, "veo_extensions": 1}


def test_an_extension_of_an_unknown_source_starts_from_nothing():
    facts = EXTEND.describe(EXTEND.Params(mode="veo"), {})

    assert facts["video"] == {"duration": 7, "veo_extensions": 1, "veo_extendable": False}
    assert facts["clip"] == {"duration": 7, "veo_extensions": 0, "veo_extendable": False, "uploaded": False}


# Stitch: what it tells the nodes downstream ---------------------------------------------------------


def clip(duration, resolution="720p", aspect_ratio="16:9"):
    return {"duration": duration, "resolution": resolution, "aspect_ratio": aspect_ratio}


def test_a_cut_lasts_as_long_as_its_clips_together():
    facts = STITCH.describe(STITCH.Params(), {"videos": [clip(8, "1080p", "9:16"), clip(7), clip(4)]})

    assert facts == {"video": {"resolution": "1080p", "aspect_ratio": "9:16", "duration": 19, "veo_extendable": False}}


@pytest.mark.parametrize(("clips", "duration"), [(1, 8), (2, 15.5), (3, 23)])
def test_each_crossfade_overlaps_half_a_second(clips, duration):
    facts = STITCH.describe(STITCH.Params(transition="crossfade"), {"videos": [clip(8)] * clips})

    assert facts["video"]["duration"] == duration


def test_a_chosen_resolution_replaces_the_first_clip_s():
    facts = STITCH.describe(STITCH.Params(resolution="4k"), {"videos": [clip(8, "720p"), clip(8, "1080p")]})

    assert (facts["video"]["resolution"], facts["video"]["aspect_ratio"]) == ("4k", "16:9")


def test_a_stitch_without_clips_describes_an_empty_video():
    facts = STITCH.describe(STITCH.Params(transition="crossfade"), {})

    assert facts == {"video": {"resolution": None, "aspect_ratio": None, "duration": 0, "veo_extendable": False}}


def test_a_clip_without_a_known_duration_counts_as_none():
    facts = STITCH.describe(STITCH.Params(), {"videos": [{"resolution": "720p"}, clip(6)]})

    assert facts["video"]["duration"] == 6


def test_a_stitched_film_cannot_be_extended_by_veo_downstream():
    graph = Graph(
        [node("t", "prompt", text="x"), node("v", "video"), node("s", "stitch"), node("e", "extend")],
        [edge("t", "text", "v", "prompt"), edge("v", "video", "s", "videos"), edge("s", "video", "e", "video")],
    )

    assert problems_of(graph, "e") == [
        ("veo_rule", None, "mode", f"Veo can only extend a video Veo made: {USE_LAST_FRAME}.")
    ]
