"""The Music node in runs, offline: prompt -> music -> stitch makes a film whose sound lasts the film, the
cost is estimated and counted, the Stitch's mix decides whether the clips' own sound is kept, and an
answer lost after Lyria made the music (the real SDK against a loopback fake) needs the user's
attention and is never asked for again on its own. The steps run in this process, as a worker runs them."""

import subprocess
from decimal import Decimal

import av
import imageio_ffmpeg
import numpy as np
import pytest
from django.test import override_settings

from assets import media
from assets.models import Asset
from assets.storage import store_file
from generation import quotas, running
from generation.models import Job, Report
from generation.planning import plan_run
from generation.reconcile import reconcile
from nodes.models import Node
from nodes.types.stitch import StitchParams
from providers.contract import MusicRequest
from providers.local_music import LocalMusicProvider
from tests.api import Api, error_of
from tests.engine_helpers import asset_path
from tests.fakes.gemini import Accept, GeminiFake
from tests.graphs import add, run_here, wire

pytestmark = [pytest.mark.django_db(transaction=True)]

LYRIA = {"video": "local", "text": "local", "image": "local", "music": "lyria", "faces": "local"}
SILENT = -90.0  # dB: below this, nothing is heard


@pytest.fixture
def lyria(tmp_path, redis):
    with (
        GeminiFake(tmp_path) as fake,
        override_settings(
            GEMINI_API_KEY="test-key", GEMINI_BASE_URL=fake.url, PROVIDERS=LYRIA, MUSIC_TIMEOUT_SECONDS=2
        ),
    ):
        yield fake


def made_file(project, folder, name: str, *sources: str, seconds: float, kind: str = "video") -> Asset:
    """A file ffmpeg makes from lavfi sources (a picture, a sound, or both), uploaded."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error"]
    for source in sources:
        command += ["-f", "lavfi", "-i", source]
    if kind == "video":
        command += ["-pix_fmt", "yuv420p"]
    subprocess.run([*command, "-t", str(seconds), str(folder / name)], check=True)
    return store_file(project, folder / name, kind, origin=Asset.Origin.UPLOAD, original_name=name)


def clip(project, folder, name: str, *, seconds: float, sound: bool) -> Node:
    sources = ["color=c=blue:s=64x48:r=24"] + (["sine=frequency=660:sample_rate=48000"] if sound else [])
    asset = made_file(project, folder, name, *sources, seconds=seconds)
    return add(project, "clip", name, asset_id=str(asset.id))


def peak_db(path) -> float:
    """The loudest sample of the file's sound, in dB of full scale."""
    with av.open(str(path)) as container:
        peak = max(float(np.abs(frame.to_ndarray()).max()) for frame in container.decode(audio=0))
    return float(20 * np.log10(peak)) if peak > 0 else -200.0


def audio_seconds(path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return float(stream.duration * stream.time_base)


def score(project, text="A warm string quartet, slow, hopeful", **params) -> tuple[Node, Node]:
    prompt = add(project, "prompt", "Music prompt", text=text)
    music = add(project, "music", "Score", **params)
    wire(prompt, "text", music, "prompt")
    return prompt, music


def test_offline_music_under_clips_without_sound_lasts_the_film(project, alice, redis, tmp_path):
    first = clip(project, tmp_path, "first.mp4", seconds=3, sound=False)
    second = clip(project, tmp_path, "second.mp4", seconds=4, sound=False)
    prompt, music = score(project, seconds=7)
    stitch = add(project, "stitch", "Cut")
    wire(first, "video", stitch, "videos")
    wire(second, "video", stitch, "videos")
    wire(music, "audio", stitch, "audio")

    plan = plan_run(project, [stitch.id], user=alice)
    job = run_here(plan.run, first, second, prompt, music, stitch)

    assert job.status == Job.Status.SUCCEEDED, job.error_message
    music.refresh_from_db()
    piece = Asset.objects.get(pk=music.output["audio"])
    assert (piece.kind, piece.provider, piece.model) == ("audio", "local", "reelgraph-offline-music")
    assert piece.meta["note"] == "Offline render - synthesised chords, not AI-generated"
    assert music.selected_take.details["notice"] == piece.meta["note"]
    assert abs(media.probe(asset_path(piece.id)).duration - 7) <= 0.1
    music_job = Job.objects.get(run=plan.run, node=music)
    assert (music_job.queue, music_job.cost_estimate, music_job.cost_actual) == ("music", Decimal("0"), Decimal("0"))
    stitch.refresh_from_db()
    film = asset_path(stitch.output["video"])
    assert abs(media.probe(film).duration - 7) <= 0.1
    assert abs(audio_seconds(film) - 7) <= 0.1
    assert peak_db(film) > -30  # the music is heard over clips that have no sound of their own


@pytest.mark.parametrize(("mix", "heard"), [("duck", True), ("blend", True), ("soundtrack", False)])
def test_the_mix_decides_whether_the_clips_own_sound_is_kept(project, alice, redis, tmp_path, mix, heard):
    shot = clip(project, tmp_path, "shot.mp4", seconds=3, sound=True)
    silence = made_file(project, tmp_path, "silence.m4a", "anullsrc=r=48000:cl=stereo", seconds=3, kind="audio")
    track = add(project, "audio", "Silence", asset_id=str(silence.id))
    stitch = add(project, "stitch", "Cut", mix=mix)
    wire(shot, "video", stitch, "videos")
    wire(track, "audio", stitch, "audio")

    job = run_here(plan_run(project, [stitch.id], user=alice).run, shot, track, stitch)

    assert job.status == Job.Status.SUCCEEDED, job.error_message
    stitch.refresh_from_db()
    film = asset_path(stitch.output["video"])
    assert bool(peak_db(film) > -30) is heard, peak_db(film)
    if not heard:
        assert peak_db(film) < SILENT
    assert abs(audio_seconds(film) - 3) <= 0.1


def test_ducking_lowers_the_music_while_the_clips_have_sound(project, alice, redis, tmp_path):
    quiet = clip(project, tmp_path, "quiet.mp4", seconds=3, sound=False)
    loud = clip(project, tmp_path, "loud.mp4", seconds=3, sound=True)
    tone = made_file(project, tmp_path, "tone.m4a", "sine=frequency=220:sample_rate=48000", seconds=6, kind="audio")
    track = add(project, "audio", "Tone", asset_id=str(tone.id))
    stitch = add(project, "stitch", "Cut", mix="duck")
    for node in (quiet, loud):
        wire(node, "video", stitch, "videos")
    wire(track, "audio", stitch, "audio")

    job = run_here(plan_run(project, [stitch.id], user=alice).run, quiet, loud, track, stitch)

    assert job.status == Job.Status.SUCCEEDED, job.error_message
    stitch.refresh_from_db()
    with av.open(str(asset_path(stitch.output["video"]))) as container:
        sound = np.concatenate([frame.to_ndarray()[0] for frame in container.decode(audio=0)])
    # Over the silent clip only the music plays; over the clip with its own tone, at 660 Hz, the
    # music at 220 Hz is pressed down: measured as the 220 Hz share of each half's spectrum.
    halves = sound[48_000 : 2 * 48_000], sound[4 * 48_000 : 5 * 48_000]
    music_level = [np.abs(np.fft.rfft(half))[220] for half in halves]
    assert music_level[1] < music_level[0] / 2


def test_a_stitch_that_blends_keeps_its_cache_key_and_the_others_do_not(project, alice, redis):
    assert StitchParams().model_dump(mode="json") == {"transition": "cut", "resolution": "source"}
    assert StitchParams(mix="duck").model_dump(mode="json")["mix"] == "duck"


def test_offline_music_is_the_same_for_the_same_prompt_and_differs_by_prompt(tmp_path):
    provider = LocalMusicProvider()
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = provider.generate(MusicRequest(prompt="rain on a tin roof", model="", seconds=5), tmp_path / "a")
    again = provider.generate(MusicRequest(prompt="rain on a tin roof", model="", seconds=5), tmp_path / "b")
    other = provider.generate(MusicRequest(prompt="a brass band marching", model="", seconds=5), tmp_path / "b")

    assert first.path.read_bytes() == again.path.read_bytes()
    assert other.path.read_bytes() != first.path.read_bytes()
    assert peak_db(first.path) > -20  # real sound, not silence


def test_music_made_but_its_answer_lost_needs_attention_and_is_not_asked_for_again(project, alice, lyria):
    prompt, music = score(project, seconds=20)
    lyria.music.append(Accept(drop=True))

    run = plan_run(project, [music.id], user=alice).run
    job = run_here(run, prompt, music)

    assert job.status == Job.Status.NEEDS_ATTENTION
    assert job.error_message.startswith(
        "Google Lyria may have started this music; running it again may charge again (about $0.04). "
        "The connection to Google Lyria broke after the request was sent"
    )
    assert job.cost_actual == job.cost_estimate == Decimal("0.0400")
    assert quotas.spent_today(Job.objects.filter(created_by=alice)) == Decimal("0.0400")
    music.refresh_from_db()
    assert (music.status, music.output) == (Node.Status.NEEDS_ATTENTION, {})
    reconcile()
    running.run_job(str(job.id))
    job.refresh_from_db()
    assert job.status == Job.Status.NEEDS_ATTENTION
    assert len(lyria.music_requests()) == 1 and len(lyria.billed("music")) == 1


def test_a_worker_that_died_while_asking_for_music_leaves_it_to_the_user(project, alice, lyria):
    prompt, music = score(project)
    run = plan_run(project, [music.id], user=alice).run
    run_here(run, prompt)
    job = Job.objects.get(run=run, node=music)
    submitting = {"at": "", "provider": "Google Lyria", "made": "music"}
    Job.objects.filter(pk=job.pk).update(state={**job.state, "submitting": submitting})

    job = run_here(run, music)

    assert job.status == Job.Status.NEEDS_ATTENTION
    assert job.error_message.startswith("Google Lyria may have started this music")
    assert lyria.music_requests() == []


def test_lyria_music_is_fitted_priced_and_counted_once(project, alice, lyria):
    prompt, music = score(project, seconds=45, model="lyria-3-pro-preview")

    plan = plan_run(project, [music.id], user=alice)
    job = run_here(plan.run, prompt, music)

    assert job.status == Job.Status.SUCCEEDED, job.error_message
    (body,) = lyria.music_requests()
    assert body["model"] == "lyria-3-pro-preview"
    assert body["input"].startswith("A warm string quartet, slow, hopeful")
    music.refresh_from_db()
    piece = Asset.objects.get(pk=music.output["audio"])
    assert (piece.provider, piece.model) == ("lyria", "lyria-3-pro-preview")
    assert abs(media.probe(asset_path(piece.id)).duration - 45) <= 0.1
    assert music.selected_take.details["notice"] == "Google Lyria made 30 s; looped to 45 s with a fade-out."
    planned = next(p for p in plan.nodes if p.node_id == str(music.id))
    assert planned.cost == job.cost_estimate == job.cost_actual == Decimal("0.0800")
    assert len(lyria.billed("music")) == 1


def test_a_safety_block_fails_the_music_unbilled_and_goes_to_moderation(project, alice, lyria):
    prompt, music = score(project, text="something the filter stops")
    lyria.music.append("blocked")

    job = run_here(plan_run(project, [music.id], user=alice).run, prompt, music)

    assert (job.status, job.error_code) == (Job.Status.FAILED, "safety_blocked")
    assert job.cost_actual in (None, Decimal("0"))
    assert Report.objects.filter(job=job, source=Report.Source.SAFETY).count() == 1
    assert lyria.billed("music") == []


def test_the_node_type_is_offered_with_its_port_length_and_models(alice, redis):
    types = {entry["name"]: entry for entry in Api(alice).get("/node-types").json()}

    music = types["music"]
    assert [(p["name"], p["kind"], p["required"]) for p in music["inputs"]] == [("prompt", "text", True)]
    assert [(p["name"], p["kind"]) for p in music["outputs"]] == [("audio", "audio")]
    schema = music["params_schema"]["properties"]
    assert (schema["seconds"]["minimum"], schema["seconds"]["maximum"], schema["seconds"]["default"]) == (5, 180, 30)
    assert schema["model"]["enum"] == ["", "reelgraph-offline-music"]


def test_a_length_out_of_range_is_refused_naming_the_field(project, alice, redis):
    refused = Api(alice).post(f"/projects/{project.id}/nodes", {"type": "music", "params": {"seconds": 600}})

    assert refused.status_code == 422
    assert "seconds" in str(error_of(refused))
    assert not Node.objects.filter(project=project).exists()


def test_a_mix_stitch_does_not_offer_is_refused_with_the_choices(project, alice, redis):
    refused = Api(alice).post(f"/projects/{project.id}/nodes", {"type": "stitch", "params": {"mix": "loud"}})

    assert refused.status_code == 422
    error = error_of(refused)
    assert "mix" in str(error) and "'blend', 'soundtrack' or 'duck'" in error["message"]
    assert not Node.objects.filter(project=project).exists()
