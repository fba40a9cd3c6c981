"""Last-frame extraction: does its cost grow with the clip's length? (goal: 120 s within 1.5x of 8 s)

Run: .venv/bin/python -m bench.media_last_frame
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import machine, median_seconds, setup_django

setup_django()

from assets import media  # noqa: E402


def clip(path: Path, seconds: int, gop: int) -> Path:
    """A 720p H.264/AAC clip with a keyframe every `gop` frames (ours use 48; x264's default is 250)."""
    media.ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=s=1280x720:r=24:d={seconds}",
        "-f", "lavfi", "-i", f"sine=f=440:d={seconds}:r=48000",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop), "-bf", "0", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-shortest", str(path),
    )  # fmt: skip
    return path


def main() -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        rows = []
        for gop in (48, 250):
            timings = {}
            for seconds in (8, 120):
                source = clip(folder / f"{seconds}s-gop{gop}.mp4", seconds, gop)
                timings[seconds], _ = median_seconds(lambda s=source: media.last_frame(s, folder / "last.png"), runs=9)
            rows.append((gop, timings[8], timings[120], timings[120] / timings[8]))
    print("| keyframe interval | 8 s clip | 120 s clip | ratio (goal <= 1.5) |")
    print("|---|---|---|---|")
    for gop, short, long, ratio in rows:
        verdict = "met" if ratio <= 1.5 else "missed"
        print(f"| {gop} frames | {short * 1000:.0f} ms | {long * 1000:.0f} ms | {ratio:.2f} {verdict} |")


if __name__ == "__main__":
    main()
