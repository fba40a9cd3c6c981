"""Every media operation: probe, last frame, offline render, concatenation, trimming.

ffmpeg comes from imageio-ffmpeg (a static build with libx264); probing uses PyAV, which reads
the container's headers instead of decoding. Operations seek rather than decode where they can.
"""

from __future__ import annotations

import hashlib
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import av
import imageio_ffmpeg
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

from assets.mixing import soundtrack_under

FPS = 24
FFMPEG_TIMEOUT = 900
# Every clip we encode has the same shape, so that our clips always join by stream copy: no
# B-frames (no reordering delay for the MP4 edit lists to disagree about), a keyframe every two
# seconds (seeking to the last frame decodes at most 48 frames), AAC stereo at 48 kHz.
VIDEO_ENCODING = ("-c:v", "libx264", "-crf", "20", "-bf", "0", "-g", str(2 * FPS), "-pix_fmt", "yuv420p")
AUDIO_ENCODING = ("-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2")
RESOLUTIONS = {"720p": 720, "1080p": 1080, "4k": 2160}
# The end of an offline render shows no caption (see _fading_caption): longer than the half second
# before the end where last_frame() reads its frame.
CLEAN_ENDING_SECONDS = 0.6


class MediaError(Exception):
    """A media file could not be read or produced; the message says which and why."""


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    audio_sample_rate: int | None = None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def ffmpeg(*args: str, timeout: float = FFMPEG_TIMEOUT) -> None:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"ffmpeg took longer than {timeout:.0f}s") from exc
    if result.returncode != 0:
        raise MediaError(f"ffmpeg failed: {result.stderr.strip()[-800:] or result.returncode}")


# Reading only the container's headers: for MP4 (every clip Reelgraph makes, and Veo's) they say
# everything probe() needs, in 2 ms instead of the 10 ms libavformat spends decoding packets to be sure.
QUICK_PROBE = {"probesize": "32", "analyzeduration": "0"}


def probe(path: Path) -> MediaInfo:
    info = _probe(path, QUICK_PROBE)
    video_told = not info.has_video or bool(info.width and info.height and info.fps)
    audio_told = not info.has_audio or bool(info.audio_sample_rate)
    if info.duration and video_told and audio_told:
        return info
    return _probe(path, {})  # headers that do not tell it all (a stream, some uploads): look at the packets


def _probe(path: Path, options: dict[str, str]) -> MediaInfo:
    try:
        with av.open(str(path), options=options) as container:
            video = next(iter(container.streams.video), None)
            audio = next(iter(container.streams.audio), None)
            return MediaInfo(
                duration=_duration(container, video),
                width=video.codec_context.width if video else None,
                height=video.codec_context.height if video else None,
                fps=float(video.average_rate) if video and video.average_rate else None,
                video_codec=video.codec_context.name if video else None,
                audio_codec=audio.codec_context.name if audio else None,
                audio_sample_rate=audio.codec_context.sample_rate if audio else None,
            )
    except av.FFmpegError as exc:
        raise MediaError(f"not a readable media file: {exc}") from exc


def remux_without_metadata(source: Path, out: Path, kind: str) -> Path:
    """The first video and audio streams of `source`, copied (not re-encoded) into a new container
    with no metadata, chapters, subtitles or data streams: no GPS, no names, nothing appended."""
    streams = ["-map", "0:v:0", "-map", "0:a:0?"] if kind == "video" else ["-map", "0:a:0"]
    faststart = ["-movflags", "+faststart"] if out.suffix in (".mp4", ".mov", ".m4a") else []
    ffmpeg(
        "-i", str(source), *streams, "-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1",
        "-fflags", "+bitexact", *faststart, str(out),
    )  # fmt: skip
    return out


def _duration(container, video) -> float:
    # The video stream's own duration is what a viewer sees; the container's may include audio padding.
    if video is not None and video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def frame_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """Pixel size for a Veo resolution and aspect ratio (720p at 16:9 is 1280 by 720)."""
    short = RESOLUTIONS[resolution]
    long = short * 16 // 9
    return (long, short) if aspect_ratio == "16:9" else (short, long)


def last_frame(video: Path, out: Path) -> Path:
    """The final frame as PNG. Seeks from the end, so a 2-minute clip costs what an 8-second one does."""
    ffmpeg("-sseof", "-0.5", "-i", str(video), "-frames:v", "1", "-update", "1", "-f", "image2", str(out))
    if not out.exists():
        raise MediaError(f"could not read a last frame from {video.name}")
    return out


def frame_at(video: Path, out: Path, seconds: float) -> Path:
    """One frame as PNG, found by seeking (a poster, or a sample for the identity check)."""
    ffmpeg("-ss", f"{max(0.0, seconds):.3f}", "-i", str(video), "-frames:v", "1", "-update", "1", str(out))
    if not out.exists():
        raise MediaError(f"could not read a frame at {seconds:.1f} s from {video.name}")
    return out


def sample_frames(video: Path, workdir: Path, count: int = 5) -> list[Path]:
    """`count` frames spread evenly over the clip, first and last excluded."""
    duration = probe(video).duration
    return [
        frame_at(video, workdir / f"{video.stem}-sample-{index}.png", duration * (index + 1) / (count + 1))
        for index in range(count)
    ]


def poster(video: Path, out: Path) -> Path:
    """A still to show before the video plays: a second in, where most clips have found their picture."""
    return frame_at(video, out, min(1.0, probe(video).duration / 2))


def render_clip(
    out: Path,
    *,
    width: int,
    height: int,
    duration: float,
    caption: str,
    label: str,
    image: Path | None = None,
    end_image: Path | None = None,
) -> Path:
    """The offline renderer: a real H.264/AAC clip of the requested size and length.

    The picture is the first-frame image with a slow push-in (fading to the last-frame image when
    given), or a moving gradient whose colours come from the caption; the caption and a label
    saying who rendered it are drawn on top; the sound is a soft room tone.
    """
    frames = round(duration * FPS)
    overlay = out.with_suffix(".overlay.png")
    caption_overlay(overlay, width, height, caption, label)
    inputs, background = _background(out, width, height, duration, caption, image, end_image)
    overlay_input, sound_input = len(inputs), len(inputs) + 1
    ffmpeg(
        *(argument for source in inputs for argument in source),
        "-loop", "1", "-framerate", str(FPS), "-t", f"{duration}", "-i", str(overlay),
        "-f", "lavfi", "-i", f"anoisesrc=d={duration}:c=pink:a=0.02:r=48000,lowpass=f=900",
        "-filter_complex", f"{background}[bg];{_fading_caption(overlay_input, duration)};"
        "[bg][caption]overlay=0:0,format=yuv420p[v]",
        "-map", "[v]", "-map", f"{sound_input}:a",
        "-frames:v", str(frames), "-r", str(FPS),
        *VIDEO_ENCODING, "-preset", "ultrafast", *AUDIO_ENCODING, "-t", f"{duration}",
        "-movflags", "+faststart", str(out),
    )  # fmt: skip
    for scratch in (overlay, out.with_suffix(".start.png"), out.with_suffix(".end.png")):
        scratch.unlink(missing_ok=True)
    return out


def _fading_caption(overlay_input: int, duration: float) -> str:
    """The caption fades out just before the end, so the last frame is the picture alone: a clip made
    from it (an extension, a continuation from the last frame) does not carry this caption under its own."""
    fade = min(0.4, duration / 4)
    start = max(0.0, duration - fade - CLEAN_ENDING_SECONDS)
    return f"[{overlay_input}:v]format=rgba,fade=t=out:st={start:.3f}:d={fade:.3f}:alpha=1[caption]"


def _background(out, width, height, duration, caption, image, end_image) -> tuple[list[list[str]], str]:
    """The ffmpeg inputs (one argument list each) and the filter that makes the moving background."""
    if image is None:
        digest = hashlib.sha256(caption.encode()).hexdigest()
        colours = f"c0=0x{digest[:6]}:c1=0x{digest[6:12]}:c2=0x{digest[12:18]}"
        gradient = f"gradients=s={width}x{height}:d={duration}:r={FPS}:{colours}:nb_colors=3:speed=0.015"
        return [["-f", "lavfi", "-i", gradient]], "[0:v]eq=brightness=-0.12"
    frames = round(duration * FPS)
    # Each still is decoded once and repeated; a slow diagonal pan over a slightly larger copy
    # gives it life without scaling every frame.
    still = f"loop=loop={frames - 1}:size=1:start=0,setpts=N/{FPS}/TB,fps={FPS}"
    pan = f"crop={width}:{height}:x='(iw-{width})*t/{duration}':y='(ih-{height})*t/{duration}'"
    inputs = [["-i", str(cover(image, out.with_suffix(".start.png"), width, height))]]
    if end_image is None:
        return inputs, f"[0:v]{still},{pan},setsar=1"
    inputs.append(["-i", str(cover(end_image, out.with_suffix(".end.png"), width, height))])
    fade = f"fade=t=in:st={duration / 2}:d={duration / 2}:alpha=1"
    return inputs, f"[0:v]{still},{pan}[start];[1:v]{still},{pan},format=rgba,{fade}[end];[start][end]overlay"


def cover(image: Path, out: Path, width: int, height: int, margin: float = 1.06) -> Path:
    """The whole image, fitted into the frame over a blurred, darkened fill of itself, with a little
    margin to pan across. Nothing of the picture is cut off: a portrait keeps its face."""
    size = (round(width * margin / 2) * 2, round(height * margin / 2) * 2)
    with Image.open(image) as source:
        picture = source.convert("RGB")
        fill = ImageOps.fit(picture, size, Image.Resampling.BILINEAR)
        fill = ImageEnhance.Brightness(fill.filter(ImageFilter.GaussianBlur(radius=max(size) // 40))).enhance(0.55)
        fitted = ImageOps.contain(picture, size, Image.Resampling.LANCZOS)
        fill.paste(fitted, ((size[0] - fitted.width) // 2, (size[1] - fitted.height) // 2))
        fill.save(out)
    return out


def caption_overlay(out: Path, width: int, height: int, caption: str, label: str) -> Path:
    """A transparent layer with the caption across the bottom and the label at the top left."""
    scale = height / 720
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    caption_font = ImageFont.load_default(size=max(14, round(30 * scale)))
    label_font = ImageFont.load_default(size=max(10, round(18 * scale)))
    lines = textwrap.wrap(caption, width=max(20, int(width / (16 * scale))))[:4] or [""]
    line_height = round(40 * scale)
    top = height - round(40 * scale) - line_height * len(lines)
    draw.rectangle((0, top - round(20 * scale), width, height), fill=(0, 0, 0, 110))
    for i, line in enumerate(lines):
        draw.text((round(40 * scale), top + i * line_height), line, font=caption_font, fill=(255, 255, 255, 235))
    margin = round(24 * scale)
    draw.text((margin, margin), label, font=label_font, fill=(255, 255, 255, 200))
    overlay.save(out)
    return out


def concat(
    clips: list[Path],
    out: Path,
    *,
    transition: str = "cut",
    size: tuple[int, int] | None = None,
    soundtrack: Path | None = None,
    mix: str = "blend",
    crossfade: float = 0.5,
) -> Path:
    """Join clips in order. Clips that already share their format are joined by stream copy. A soundtrack
    goes under the clips' own sound as `mix` says (assets.mixing)."""
    if not clips:
        raise MediaError("nothing to join: connect at least one video")
    infos = [probe(clip) for clip in clips]
    target = size or (infos[0].width, infos[0].height)
    if transition == "cut" and soundtrack is None and _same_format(infos, target):
        _concat_copy(clips, infos, out)
        # Clips from elsewhere (a provider's encoder) can disagree in ways the headers do not show;
        # a join that is not exactly as long as its parts is made again by re-encoding.
        if abs(probe(out).duration - sum(info.duration for info in infos)) < 0.5 / FPS:
            return out
    return _concat_encode(clips, infos, out, target, transition, (soundtrack, mix), crossfade)


def _same_format(infos: list[MediaInfo], size: tuple[int, int]) -> bool:
    def signature(info: MediaInfo) -> tuple:
        return (info.video_codec, info.audio_codec, info.audio_sample_rate, info.fps)

    return all((i.width, i.height) == size and signature(i) == signature(infos[0]) for i in infos)


def _concat_copy(clips: list[Path], infos: list[MediaInfo], out: Path) -> Path:
    # Each clip's length is given outright: left to itself the demuxer would use the longest stream,
    # and AAC's priming samples would push every later clip a little out of place.
    listing = out.with_suffix(".txt")
    listing.write_text(
        "".join(
            f"file '{clip.resolve()}'\nduration {info.duration:.6f}\n" for clip, info in zip(clips, infos, strict=True)
        )
    )
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", "-movflags", "+faststart", str(out))
    listing.unlink(missing_ok=True)
    return out


def _concat_encode(clips, infos, out, size, transition, music, crossfade) -> Path:
    width, height = size
    inputs: list[str] = []
    chains: list[str] = []
    for index, (clip, info) in enumerate(zip(clips, infos, strict=True)):
        inputs += ["-i", str(clip)]
        chains.append(
            f"[{index}:v]scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={FPS},format=yuv420p,"
            f"trim=duration={info.duration:.6f},setpts=PTS-STARTPTS[v{index}]"
        )
        # A clip without sound has silence of its length (its own filter, then joined by a comma).
        source = f"[{index}:a]" if info.has_audio else f"anullsrc=r=48000:cl=stereo,atrim=duration={info.duration:.6f},"
        chains.append(
            f"{source}aresample=48000,aformat=channel_layouts=stereo,apad,"
            f"atrim=duration={info.duration:.6f},asetpts=PTS-STARTPTS[a{index}]"
        )
    video, audio = _join(chains, infos, transition, crossfade)
    soundtrack, mix = music
    if soundtrack is not None:
        inputs += ["-i", str(soundtrack)]
        audio = soundtrack_under(chains, audio, len(clips), mix)
    ffmpeg(
        *inputs,
        "-filter_complex", ";".join(chains),
        "-map", video, "-map", audio,
        *VIDEO_ENCODING, "-preset", "veryfast", *AUDIO_ENCODING,
        "-movflags", "+faststart", str(out),
    )  # fmt: skip
    return out


def _join(chains: list[str], infos: list[MediaInfo], transition: str, crossfade: float) -> tuple[str, str]:
    count = len(infos)
    if transition == "cut" or count == 1:
        pairs = "".join(f"[v{i}][a{i}]" for i in range(count))
        chains.append(f"{pairs}concat=n={count}:v=1:a=1[vout][aout]")
        return "[vout]", "[aout]"
    fade = min(crossfade, *(info.duration / 2 for info in infos))
    video, audio, offset = "[v0]", "[a0]", infos[0].duration
    for i in range(1, count):
        offset -= fade
        chains.append(f"{video}[v{i}]xfade=transition=fade:duration={fade:.3f}:offset={offset:.3f}[xv{i}]")
        chains.append(f"{audio}[a{i}]acrossfade=d={fade:.3f}[xa{i}]")
        video, audio = f"[xv{i}]", f"[xa{i}]"
        offset += infos[i].duration
    return video, audio


def tail(video: Path, out: Path, seconds: float) -> Path:
    """The last `seconds` of a clip, frame-exact (seeking from the end, then re-encoding)."""
    ffmpeg(
        "-sseof", f"-{seconds:.6f}", "-i", str(video), "-frames:v", str(round(seconds * FPS)),
        *VIDEO_ENCODING, "-preset", "veryfast", *AUDIO_ENCODING,
        "-movflags", "+faststart", str(out),
    )  # fmt: skip
    return out


def face_crop(image: Path, bbox, out: Path, *, margin: float = 0.5, size: int = 256) -> Path:
    """A square around a face box (x1, y1, x2, y2), `margin` of the face's size on each side, kept
    inside the photo: what a character chip shows instead of the whole photo."""
    x1, y1, x2, y2 = bbox
    with Image.open(image) as source:
        picture = ImageOps.exif_transpose(source).convert("RGB")
        side = min(max(x2 - x1, y2 - y1) * (1 + 2 * margin), *picture.size)
        centre_x, centre_y = (x1 + x2) / 2, (y1 + y2) / 2
        left = min(max(0, centre_x - side / 2), picture.width - side)
        top = min(max(0, centre_y - side / 2), picture.height - side)
        face = picture.crop((round(left), round(top), round(left + side), round(top + side)))
        face.thumbnail((size, size), Image.Resampling.LANCZOS)
        face.save(out, "PNG")
    return out


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size
