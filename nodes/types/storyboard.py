"""Storyboard: a brief planned into shots, each a clip Veo can make, checked before anything is paid.

The language model (or the offline planner) writes the shot list through structured output; the
node keeps it to Veo's rules (lengths of 4, 6 or 8 s, at most 12 shots, the first shot a cut, only
the connected characters). The user may then edit the shots (`shots`): an edited list is used as it
is. Expanding turns the shots into nodes on the canvas (actions.storyboard).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nodes.types.base import NodeType, Outputs, Params, Port, Problem, RunContext, Usage
from nodes.types.veo import DEFAULT_MODEL, AspectRatio, VeoModel
from providers.contract import MAX_SHOTS, SHOT_SECONDS, PlannedShot, StoryboardRequest


class Shot(BaseModel):
    """A shot as the storyboard keeps it: planned, or edited by the user."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,19}$", description="Stable across edits: expanding again updates its nodes."
    )
    description: str = Field(min_length=1, max_length=2000, description="What the video model should show.")
    seconds: Literal[SHOT_SECONDS] = Field(default=8, description="4, 6 or 8 seconds (Veo's lengths).")
    characters: list[str] = Field(default_factory=list, max_length=3, description="Who appears, by name.")
    camera: str = Field(default="", max_length=200)
    continues: bool = Field(default=False, description="Runs on from the previous shot's last frame (no cut).")


class StoryboardParams(Params):
    seconds: int = Field(default=30, ge=4, le=MAX_SHOTS * 8, description="The film's target length in seconds.")
    aspect_ratio: AspectRatio = "16:9"
    shot_count: int | None = Field(default=None, ge=1, le=MAX_SHOTS, description="How many shots; empty to choose.")
    tone: str = Field(default="", max_length=200, description="The film's tone, e.g. 'upbeat, energetic'.")
    video_model: VeoModel = Field(default=DEFAULT_MODEL, description="The video model the shots are written for.")
    shots: list[Shot] = Field(
        default_factory=list, max_length=MAX_SHOTS, description="The shots as you edited them; used as they are."
    )


class StoryboardNode(NodeType):
    name = "storyboard"
    label = "Storyboard"
    description = "Plans a brief into shots for Veo; edit them, then expand them into nodes."
    queue = "text"
    inputs = (
        Port("brief", "text", required=True, label="Brief"),
        Port("characters", "character", multi=True, max_items=3, label="Characters"),
        Port("style", "image", label="Style image"),
    )
    outputs = (Port("text", "text", label="Shot list"),)
    Params = StoryboardParams

    def check(self, params: StoryboardParams, inputs) -> list[Problem]:
        problems = []
        ids = [shot.id for shot in params.shots]
        if len(set(ids)) != len(ids):
            problems.append(Problem("Two shots share an id: give each shot its own.", field="shots"))
        if params.shots and params.shots[0].continues:
            problems.append(
                Problem("The first shot has nothing to continue: make it a cut.", code="veo_rule", field="shots")
            )
        return problems

    def estimate(self, params: StoryboardParams, inputs) -> list[Usage]:
        return [] if params.shots else [Usage("text")]

    def run(self, ctx: RunContext) -> Outputs:
        params = ctx.params
        names = [character.name for character in ctx.inputs.get("characters", [])]
        if params.shots:
            shots = list(params.shots)
            ctx.state["edited"] = True
        else:
            style = ctx.inputs.get("style", [])
            request = StoryboardRequest(
                brief=ctx.inputs["brief"][0],
                seconds=params.seconds,
                shots=params.shot_count,
                aspect_ratio=params.aspect_ratio,
                tone=params.tone,
                characters=tuple(names),
                style_image=ctx.path(style[0]) if style else None,
            )
            ctx.progress(0.2, f"Planning the shots with {ctx.text.label}")
            planned = ctx.text.storyboard(request)
            ctx.state["planned_by"] = {"provider": planned.provider, "model": planned.model}
            shots = kept_to_veo(planned.plan.shots, names, params.shot_count)
        ctx.state["shots"] = [shot.model_dump() for shot in shots]
        ctx.state["seconds"] = sum(shot.seconds for shot in shots)
        return {"text": shot_list_text(shots)}


def kept_to_veo(planned: list[PlannedShot], names: list[str], count: int | None) -> list[Shot]:
    """A model's shots made valid: ids s1, s2, ...; each length the nearest Veo allows; only connected
    characters (by name, any case); the first shot a cut; no more than asked for, or than 12."""
    return [
        _kept(shot, names, id=f"s{index + 1}", seconds=nearest_length(shot.seconds), first=index == 0)
        for index, shot in enumerate(planned[: count or MAX_SHOTS])
    ]


def kept_rewrite(rewritten: PlannedShot, current: Shot, names: list[str], *, first: bool) -> Shot:
    """A model's rewrite of one shot made valid: the shot's own id and length (the film keeps its
    length), only connected characters, a cut when it is the first shot."""
    return _kept(rewritten, names, id=current.id, seconds=current.seconds, first=first)


def nearest_length(seconds: int) -> int:
    return min(SHOT_SECONDS, key=lambda allowed: (abs(allowed - seconds), -allowed))


def _kept(shot: PlannedShot, names: list[str], *, id: str, seconds: int, first: bool) -> Shot:
    known = {name.casefold(): name for name in names}
    people = [known[name.casefold()] for name in shot.characters if name.casefold() in known]
    return Shot(
        id=id,
        description=shot.description.strip()[:2000] or "An empty shot.",
        seconds=seconds,
        characters=list(dict.fromkeys(people))[:3],
        camera=shot.camera.strip()[:200],
        continues=shot.continues and not first,
    )


def shot_list_text(shots: list[Shot]) -> str:
    lines = []
    for number, shot in enumerate(shots, 1):
        how = "continues" if shot.continues else "cut"
        camera = f" [{shot.camera}]" if shot.camera else ""
        lines.append(f"{number}. ({shot.seconds} s, {how}){camera} {shot.description}")
    return "\n".join(lines)
