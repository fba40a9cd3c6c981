"""How a soundtrack goes under stitched clips (Stitch's `mix`): ffmpeg filter chains, added to a stitch's
filter graph by assets.media.concat."""

from __future__ import annotations

MIXES = ("blend", "soundtrack", "duck")


def soundtrack_under(chains: list[str], clips_sound: str, music_input: int, mix: str) -> str:
    """Add to `chains` the filters that lay input `music_input` under the stitched clips' sound
    (`clips_sound`, a label as long as the film); returns the label of the film's sound.

    blend: both, the music at 0.6 of the clips' level (what Stitch did before it had a mix setting);
    soundtrack: the music alone, the clips' own sound dropped;
    duck: the clips' sound at full level, the music under it, pressed down while the clips have sound
    (a clip with no sound of its own is silence here, so the music plays at its level over it)."""
    chains.append(f"[{music_input}:a]aresample=48000,aformat=channel_layouts=stereo[music]")
    if mix == "soundtrack":
        chains.append(f"{clips_sound}volume=0[muted]")
        chains.append("[muted][music]amix=inputs=2:duration=first:normalize=0[mixed]")
    elif mix == "duck":
        chains.append(f"{clips_sound}asplit=2[voice][key]")
        chains.append("[music]apad,volume=0.7[bed]")
        chains.append("[bed][key]sidechaincompress=threshold=0.015:ratio=8:attack=20:release=400:makeup=1[ducked]")
        chains.append("[voice][ducked]amix=inputs=2:duration=first:normalize=0[mixed]")
    else:
        chains.append(f"{clips_sound}[music]amix=inputs=2:duration=first:weights='1 0.6'[mixed]")
    return "[mixed]"
