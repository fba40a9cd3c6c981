"""Music: the offline music bed, and fitting a piece of music to a length. Encoding is ffmpeg's
(assets.media.ffmpeg); the synthesis is numpy. How a soundtrack goes under stitched clips: assets.mixing.

Every piece of music Reelgraph keeps is AAC stereo at 48 kHz in an M4A, the sound of every clip it
encodes, so that a stitch never resamples twice.
"""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import numpy as np

from assets import media

RATE = 48_000
MUSIC_ENCODING = (*media.AUDIO_ENCODING, "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact")

# Chord progressions as semitones above the key's root (a minor chord where the third is 3).
PROGRESSIONS = (
    ((0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)),  # I V vi IV
    ((0, 3, 7), (8, 12, 15), (3, 7, 10), (10, 14, 17)),  # i VI III VII
    ((0, 4, 7), (5, 9, 12), (0, 4, 7), (7, 11, 14)),  # I IV I V
    ((0, 3, 7), (5, 8, 12), (7, 10, 14), (0, 3, 7)),  # i iv v i
)


def synthesise(prompt: str, seconds: float, out: Path) -> Path:
    """An offline music bed of exactly `seconds`: soft chords and an arpeggio in a key, tempo and
    progression taken from the prompt, so each prompt has its own and the same prompt the same bytes."""
    seed = hashlib.sha256(prompt.encode()).digest()
    root = 110.0 * 2 ** ((seed[0] % 12) / 12)  # A2 to G#3
    beat = 60.0 / (72 + seed[1] % 48)  # 72 to 119 beats a minute
    progression = PROGRESSIONS[seed[2] % len(PROGRESSIONS)]
    samples = round(seconds * RATE)
    time = np.arange(samples) / RATE
    bar = 4 * beat
    chord_index = (time // bar).astype(int) % len(progression)
    left = np.zeros(samples)
    right = np.zeros(samples)
    for voice in range(3):
        semitones = np.array([chord[voice] for chord in progression])[chord_index]
        pad = 0.06 * _tone(root * 2 ** (semitones / 12), time)
        left += pad * (1.0 - 0.25 * voice)
        right += pad * (0.5 + 0.25 * voice)
    step = beat / 2  # eighth notes, up and down the chord an octave higher
    note_index = (time // step).astype(int)
    voice = np.array([0, 1, 2, 1])[note_index % 4]
    semitones = np.array(progression)[chord_index, voice] + 12
    since_note = time - note_index * step
    pluck = 0.12 * _tone(root * 2 ** (semitones / 12), time) * np.exp(-since_note * 6)
    left, right = left + 0.7 * pluck, right + pluck
    envelope = _fades(samples, min(1.0, seconds / 4))
    return _encode(np.stack([left, right]) * envelope, out)


def _tone(frequency: np.ndarray, time: np.ndarray) -> np.ndarray:
    """A soft tone (a sine and its quieter octave); the phase follows the frequency so chord changes click less."""
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(frequency, time.shape)) / RATE
    return np.sin(phase) + 0.3 * np.sin(2 * phase)


def _fades(samples: int, seconds: float) -> np.ndarray:
    length = max(1, round(seconds * RATE))
    envelope = np.ones(samples)
    ramp = np.linspace(0.0, 1.0, min(length, samples))
    envelope[: ramp.size] *= ramp
    envelope[samples - ramp.size :] *= ramp[::-1]
    return envelope


def _encode(stereo: np.ndarray, out: Path) -> Path:
    pcm = (np.clip(stereo, -1.0, 1.0) * 32767).astype("<i2").T
    raw = out.with_suffix(".wav")
    with wave.open(str(raw), "wb") as sink:
        sink.setnchannels(2)
        sink.setsampwidth(2)
        sink.setframerate(RATE)
        sink.writeframes(pcm.tobytes())
    media.ffmpeg("-i", str(raw), *MUSIC_ENCODING, str(out))
    raw.unlink()
    return out


def fit_length(source: Path, out: Path, seconds: float) -> tuple[Path, str]:
    """`source` made exactly `seconds` long: looped when shorter, cut when longer, with a fade-out either
    way so that it does not stop mid-note. Returns the piece and what was done to it ("" for nothing)."""
    made = media.probe(source).duration
    fade = min(2.0, seconds / 4)
    ending = f"afade=t=out:st={seconds - fade:.3f}:d={fade:.3f}"
    if abs(made - seconds) < 0.05:
        looping, ending, note = [], "anull", ""
    elif made < seconds:
        looping, note = ["-stream_loop", "-1"], f"made {made:.0f} s; looped to {seconds:g} s with a fade-out"
    else:
        looping, note = [], f"made {made:.0f} s; cut to {seconds:g} s with a fade-out"
    media.ffmpeg(
        *looping, "-i", str(source), "-map", "0:a:0", "-af", f"atrim=duration={seconds:.6f},{ending}",
        "-t", f"{seconds:.6f}", *MUSIC_ENCODING, str(out),
    )  # fmt: skip
    return out, note
