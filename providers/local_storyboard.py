"""The offline storyboard planner: deterministic, and shaped like a short ad or scene.

It splits the film into shots of Veo's lengths that add up to the target, gives each a beat (open on the
place, meet the people, the detail, the action, the payoff, the close), writes the brief's own words
into every description so the video model sees the subject, and alternates cuts with continuations:
a new set-up, then the same action carried on from its last frame. The same brief gives the same plan.

Rewriting one shot keeps its beat, length, continuity and people, and changes how it is filmed: the
camera and the light are the next ones (in the vocabularies' order) after a place chosen by the hash of
the shot's current words, skipping any that would leave the words as they are. The same shot rewritten
gives the same answer; rewriting that answer gives another.
"""

from __future__ import annotations

import hashlib

from providers.contract import MAX_SHOTS, SHOT_SECONDS, PlannedShot, ShotPlan, ShotRewriteRequest, StoryboardRequest
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


def _brief(request: StoryboardRequest) -> str:
    return " ".join(request.brief.split()).rstrip(".")


def _seed(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def _look(request: StoryboardRequest) -> str:
    return STYLES.get(request.tone, "") or request.tone or STYLES["commercial"]


def plan(request: StoryboardRequest) -> ShotPlan:
    brief = _brief(request)
    seed = _seed(brief)
    count = shot_count(request)
    look = _look(request)
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


def rewrite(request: ShotRewriteRequest) -> PlannedShot:
    """The shot filmed another way (see the module's docstring); never its current words."""
    current, index = request.current, request.index
    beat = BEATS[index][0] if index < len(BEATS) else f"Beat {index + 1}"
    with_people = f" with {', '.join(current.characters)}" if current.characters else ""
    brief, look = _brief(request.storyboard), _look(request.storyboard)
    start = _seed(f"{current.camera}\n{current.description}")
    for step in range(1, len(CAMERAS) * len(LIGHTING) + 1):
        camera = CAMERAS[(start + step) % len(CAMERAS)]
        light = LIGHTING[(start // len(CAMERAS) + step) % len(LIGHTING)]
        description = f"{beat}{with_people}, filmed as a {camera}: {brief}. {light.capitalize()}, {look}."
        if description != current.description and camera != current.camera:
            break
    return PlannedShot(
        description=description,
        seconds=current.seconds,
        characters=list(current.characters),
        camera=camera,
        continues=current.continues,
    )
