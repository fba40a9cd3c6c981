"""Stitching 20 clips: by stream copy (what the Stitch node does when clips share a format) against
re-encoding them and against a plain copy of the same bytes. Goal: the stitch within 3x the copy.

The clips are 8 s, 1280x720, 24 fps H.264 + AAC, encoded as Reelgraph encodes (a keyframe every 48
frames), like the clips a Veo video node and its extensions produce.

Run: .venv/bin/python -m bench.media_stitch [--clips 20] [--seconds 8]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from bench.common import machine, median_seconds, setup_django

setup_django()

from assets import media  # noqa: E402


def clip(path: Path, seconds: int, hue: int) -> Path:
    media.ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=s=1280x720:r=24:d={seconds},hue=h={hue}",
        "-f", "lavfi", "-i", f"sine=f={220 + hue}:d={seconds}:r=48000",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-g", "48", "-bf", "0", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2", "-shortest", "-movflags", "+faststart", str(path),
    )  # fmt: skip
    return path


def copy_bytes(clips: list[Path], out: Path) -> None:
    with out.open("wb") as target:
        for source in clips:
            with source.open("rb") as part:
                shutil.copyfileobj(part, target, 1 << 20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        clips = [clip(folder / f"clip-{n:02}.mp4", args.seconds, n * 17 % 360) for n in range(args.clips)]
        size = sum(c.stat().st_size for c in clips)
        infos = [media.probe(c) for c in clips]
        total = sum(info.duration for info in infos)
        print(f"{args.clips} clips of {args.seconds} s: {total:.1f} s, {size / 1e6:.1f} MB")

        copied, _ = median_seconds(lambda: copy_bytes(clips, folder / "copy.bin"), runs=7)
        stitched, _ = median_seconds(lambda: media.concat(clips, folder / "stitched.mp4"), runs=7)
        joined = media.probe(folder / "stitched.mp4")
        assert abs(joined.duration - total) < 0.1, (joined.duration, total)
        encoded, _ = median_seconds(
            lambda: media._concat_encode(clips, infos, folder / "encoded.mp4", (1280, 720), "cut", None, 0.5),
            runs=3,
            warmup=0,
        )
    print("| method | median | ÷ copy |")
    print("|---|---|---|")
    for name, seconds in (
        ("plain copy of the bytes", copied),
        ("stitch (probe, stream copy, check)", stitched),
        ("re-encode (x264 veryfast)", encoded),
    ):
        print(f"| {name} | {seconds * 1000:.0f} ms | {seconds / copied:.1f}x |")
    verdict = "met" if stitched <= 3 * copied else "missed"
    print(f"stitch / copy = {stitched / copied:.1f} (goal <= 3): {verdict}")


if __name__ == "__main__":
    main()
