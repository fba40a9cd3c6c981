"""The offline storyboard planner: deterministic, and shaped like a short ad or scene.

It splits the film into shots of Veo's lengths that add up to the target, gives each a beat (open on the
place, meet the people, the detail, the action, the payoff, the close), writes the brief's own words
into every description so the video model sees the subject, and alternates cuts with continuations:
a new set-up, then the same action carried on from its last frame. The same brief gives the same plan.
"""

from __future__ import annotations

import hashlib

from providers.contract import MAX_SHOTS, SHOT_SECONDS, PlannedShot, ShotPlan, StoryboardRequest
from providers.vocabulary import CAMERAS, LIGHTING, STYLES

BEATS = [
    ("Establishing shot", "wide shot, slow crane down"),
    ("Introduce the people", "medium shot, eye level"),
    ("The detail that matters", "close-up, shallow depth of field"),
    ("The action", "tracking shot alongside the subject"),
    ("The payoff", "low angle, slow push in"),
    ("Closing image", "wide shot, slow pull back"),
]


def shot_count(request: StoryboardRequest) -> int:
    """As many shots as asked, or about one per six seconds of film."""
    wanted = request.shots or round(request.seconds / 6)
    return max(1, min(MAX_SHOTS, wanted))


def durations(total: int, count: int) -> list[int]:
    """`count` shot lengths of 4, 6 or 8 s adding up as close to `total` as they can, longest first."""
    lengths = [SHOT_SECONDS[0]] * count
    step = SHOT_SECONDS[1] - SHOT_SECONDS[0]
    index = 0
    while sum(lengths) + step <= total and any(length < SHOT_SECONDS[-1] for length in lengths):
        if lengths[index] < SHOT_SECONDS[-1]:
            lengths[index] += step
        index = (index + 1) % count
    return sorted(lengths, reverse=True)


def plan(request: StoryboardRequest) -> ShotPlan:
    brief = " ".join(request.brief.split()).rstrip(".")
    seed = int(hashlib.sha256(brief.encode()).hexdigest(), 16)
    count = shot_count(request)
    look = STYLES.get(request.tone, "") or request.tone or STYLES["commercial"]
    light = LIGHTING[seed % len(LIGHTING)]
    shots = []
    for index, seconds in enumerate(durations(request.seconds, count)):
        beat, camera = BEATS[index % len(BEATS)] if index < len(BEATS) else (f"Beat {index + 1}", CAMERAS[index % 6])
        # The establishing shot is of the place; everyone else appears from the second shot on.
        people = list(request.characters) if index > 0 else []
        with_people = f" with {', '.join(people)}" if people else ""
        shots.append(
            PlannedShot(
                description=f"{beat}{with_people}: {brief}. {light.capitalize()}, {look}.",
                seconds=seconds,
                characters=people,
                camera=camera,
                continues=index % 2 == 1,  # cut, carry on, cut, carry on, ...
            )
        )
    return ShotPlan(shots=shots)
