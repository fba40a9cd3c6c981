"""Media operations on real files with the bundled ffmpeg."""

from pathlib import Path

import numpy as np
import pytest

from assets import media
from tests.graphs import FIXTURES

FRAME = 1 / media.FPS


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    made = {
        "wide": media.render_clip(
            folder / "wide.mp4", width=640, height=360, duration=4, caption="A lighthouse", label="test"
        ),
        "still": media.render_clip(
            folder / "still.mp4",
            width=640,
            height=360,
            duration=2,
            caption="An astronaut",
            label="test",
            image=FIXTURES / "astronaut.png",
        ),
        "tall": media.render_clip(
            folder / "tall.mp4",
            width=360,
            height=640,
            duration=2,
            caption="From cat to astronaut",
            label="test",
            image=FIXTURES / "chelsea.png",
            end_image=FIXTURES / "astronaut.png",
        ),
    }
    return made


def test_rendered_clips_have_the_requested_size_length_and_codecs(clips):
    wide, tall = media.probe(clips["wide"]), media.probe(clips["tall"])

    assert (wide.width, wide.height, wide.duration, wide.fps) == (640, 360, 4.0, 24.0)
    assert (tall.width, tall.height, tall.duration) == (360, 640, 2.0)
    assert (wide.video_codec, wide.audio_codec) == ("h264", "aac")


def test_frame_sizes_follow_resolution_and_aspect_ratio():
    assert media.frame_size("720p", "16:9") == (1280, 720)
    assert media.frame_size("1080p", "9:16") == (1080, 1920)
    assert media.frame_size("4k", "16:9") == (3840, 2160)


def test_the_last_frame_is_a_full_size_image(clips, tmp_path):
    frame = media.last_frame(clips["still"], tmp_path / "last.png")

    assert media.image_size(frame) == (640, 360)


def test_clips_of_one_format_are_joined_by_copy_and_last_exactly_their_sum(clips, tmp_path):
    joined = media.probe(media.concat([clips["wide"], clips["still"], clips["wide"]], tmp_path / "joined.mp4"))

    assert joined.duration == pytest.approx(10, abs=FRAME)


def test_clips_of_different_shapes_are_fitted_into_one_frame(clips, tmp_path):
    joined = media.probe(media.concat([clips["wide"], clips["tall"]], tmp_path / "mixed.mp4"))

    assert (joined.width, joined.height) == (640, 360)
    assert joined.duration == pytest.approx(6, abs=FRAME)


def test_a_crossfade_overlaps_each_join(clips, tmp_path):
    faded = media.probe(media.concat([clips["wide"], clips["still"]], tmp_path / "x.mp4", transition="crossfade"))

    assert faded.duration == pytest.approx(4 + 2 - 0.5, abs=FRAME)


def test_a_soundtrack_is_mixed_under_the_clips(clips, tmp_path):
    joined = media.probe(media.concat([clips["wide"]], tmp_path / "with-music.mp4", soundtrack=clips["still"]))

    assert joined.audio_codec == "aac"
    assert joined.duration == pytest.approx(4, abs=FRAME)


def test_the_tail_of_a_clip_is_frame_exact(clips, tmp_path):
    tail = media.probe(media.tail(clips["wide"], tmp_path / "tail.mp4", 1.5))

    assert tail.duration == pytest.approx(1.5, abs=FRAME / 2)


FORMATS = {
    "mp4": [],
    "webm": ["-c:v", "libvpx-vp9", "-c:a", "libopus"],
    "mkv": [],
    "ts": ["-f", "mpegts"],  # its headers do not give the frame size: probe() must look further
    "m4a": ["-vn"],
    "mp3": ["-vn"],
    "wav": ["-vn"],
}


@pytest.mark.parametrize("extension", FORMATS)
def test_the_quick_probe_tells_what_a_full_one_does(extension, tmp_path):
    path = tmp_path / f"sample.{extension}"
    media.ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=320x240:r=24:d=2", "-f", "lavfi", "-i", "sine=d=2:r=48000",
        *FORMATS[extension], "-shortest", str(path),
    )  # fmt: skip

    assert media.probe(path) == media._probe(path, {})


def test_a_file_that_is_not_media_is_a_clear_error(tmp_path):
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")

    with pytest.raises(media.MediaError, match="not a readable media file"):
        media.probe(fake)
    with pytest.raises(media.MediaError, match="nothing to join"):
        media.concat([], tmp_path / "none.mp4")


def test_frames_are_sampled_across_the_clip_and_a_poster_is_taken_early(clips, tmp_path):
    frames = media.sample_frames(clips["wide"], tmp_path, count=3)
    poster = media.poster(clips["wide"], tmp_path / "poster.png")

    assert len(frames) == 3 and all(media.image_size(frame) == (640, 360) for frame in frames)
    assert len({frame.read_bytes() for frame in frames}) == 3  # three different moments of a moving picture
    assert media.image_size(poster) == (640, 360)


def test_an_offline_render_ends_on_the_picture_alone_so_continuations_do_not_stack_captions(tmp_path):
    from PIL import Image

    grey = tmp_path / "grey.png"
    Image.new("RGB", (640, 360), (120, 120, 120)).save(grey)
    render = lambda name, image, caption: media.render_clip(  # noqa: E731
        tmp_path / f"{name}.mp4", width=640, height=360, duration=2, caption=caption, label="test", image=image
    )
    first = render("first", grey, "Night falls over the harbour and the boats come home")
    last = media.last_frame(first, tmp_path / "first-last.png")
    continued = render("continued", last, "Morning")
    alone = render("alone", grey, "Morning")

    band = lambda path: np.asarray(Image.open(path).convert("L"), dtype=float)[250:, :]  # noqa: E731
    assert band(last).std() < 3, "the last frame still shows the caption"
    shown = band(media.frame_at(continued, tmp_path / "continued.png", 0.5))
    expected = band(media.frame_at(alone, tmp_path / "alone.png", 0.5))
    assert np.abs(shown - expected).mean() < 2, "the first clip's caption shows under the new one"
