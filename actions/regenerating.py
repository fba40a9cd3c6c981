"""Regenerating one shot of a storyboard: the text model writes that shot again, in the context of the
brief and the other shots, and only that shot changes in the storyboard's `shots`.

Synchronous, in the request, and not a job: it is one small structured-output call (seconds, a fraction
of a cent) whose answer the person is waiting to read in the row they clicked; a job would add a Run, a
queue round trip and a take for a change that is a settings edit. The call is bounded (`timeout()`: 30 s,
or REELGRAPH_PROVIDER_TIMEOUT when shorter) and made outside any transaction or lock, so a slow model
never holds the project's lock. The answer is then written under the lock into the shots as they are at
that moment (edits made meanwhile to the other shots are kept), through the ordinary node update, so the
version goes up, open canvases hear `node.updated`, and the canvas records it on its undo history like a
settings edit. A second request for the same shot while one is under way is a 409: a double click
never pays twice. A provider that fails or refuses is a 503 or a 502 with its words; nothing changed.
"""

from __future__ import annotations

import contextlib
import logging

import django_rq
from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError

import providers
from actions import editing
from actions.storyboard import brief_of, character_sources, shots_of
from config.errors import ApiError, Conflict
from nodes import services
from nodes.models import Node
from nodes.types.storyboard import Shot, StoryboardParams, kept_rewrite
from providers.contract import (
    PlannedShot,
    ProviderError,
    ProviderNotConfigured,
    RewrittenShot,
    ShotRewriteRequest,
    StoryboardRequest,
)

logger = logging.getLogger(__name__)

# How long the person waits for the text model at most (the providers' own timeout is longer: a job waits).
WAIT_SECONDS = 30.0


def timeout() -> float:
    return min(WAIT_SECONDS, settings.PROVIDER_TIMEOUT_SECONDS)


def regenerate_shot(storyboard: Node, shot_id: str, user) -> Node:
    """The storyboard with shot `shot_id` written again by the text model; every other shot as it was."""
    request = rewrite_request(storyboard, shot_id)
    with one_at_a_time(storyboard, shot_id):
        rewritten = _ask(request)
    return _write(storyboard, shot_id, rewritten, list(request.storyboard.characters), user)


def rewriter() -> dict:
    """Who rewrites a shot, and whether that is a paid request: said beside the Regenerate buttons."""
    offline = providers.provider_name("text") == "local"
    return {"label": "the offline planner" if offline else providers.text_label(), "offline": offline}


def rewrite_request(storyboard: Node, shot_id: str) -> ShotRewriteRequest:
    """What the text model is told: the brief, the film, the connected characters and every shot."""
    if storyboard.type != "storyboard":
        raise Conflict("Only a Storyboard node has shots to regenerate.", code="not_a_storyboard")
    params = StoryboardParams.model_validate(storyboard.params)
    shots = shots_of(storyboard, params)
    ids = [shot.id for shot in shots]
    if shot_id not in ids:
        raise _no_such_shot(shot_id, ids)
    brief = brief_of(storyboard).strip()
    if not brief:
        raise Conflict(
            "The storyboard has no brief: connect a Prompt to its Brief input, then regenerate the shot.",
            code="no_brief",
            details={"field": "brief"},
        )
    film = StoryboardRequest(
        brief=brief,
        seconds=params.seconds,
        shots=len(shots),
        aspect_ratio=params.aspect_ratio,
        tone=params.tone,
        characters=tuple(character_sources(storyboard)),
    )
    planned = tuple(PlannedShot(**shot.model_dump(exclude={"id"})) for shot in shots)
    return ShotRewriteRequest(storyboard=film, shots=planned, ids=tuple(ids), shot_id=shot_id)


def _no_such_shot(shot_id: str, ids: list[str]) -> Conflict:
    which = f"its shots are {', '.join(ids)}" if ids else "it has none yet: run it, or write its shots"
    return Conflict(
        f"The storyboard has no shot {shot_id!r} ({which}). Nothing was changed.",
        code="no_such_shot",
        details={"field": "shot_id", "shots": ids},
    )


@contextlib.contextmanager
def one_at_a_time(storyboard: Node, shot_id: str):
    """Held while the shot's text model call is under way; a second one for the same shot is refused."""
    key = f"reelgraph:regenerating:{storyboard.id}:{shot_id}"
    redis = django_rq.get_connection("default")
    try:
        taken = redis.set(key, "1", nx=True, ex=int(timeout()) + 30)
    except RedisError as error:
        raise ApiError(
            "Reelgraph's queue (Redis) is not reachable, so the shot cannot be regenerated now; try again soon.",
            code="unavailable",
            status=503,
        ) from error
    if not taken:
        raise Conflict(
            "This shot is being regenerated already: its new words arrive in a moment.",
            code="already_regenerating",
            details={"field": "shot_id"},
        )
    try:
        yield
    finally:
        with contextlib.suppress(RedisError):
            redis.delete(key)


def _ask(request: ShotRewriteRequest) -> RewrittenShot:
    try:
        return providers.text_provider().rewrite_shot(request, timeout=timeout())
    except ProviderError as error:
        raise provider_failed(error) from error
    except Exception as error:  # an answer no SDK rule expected: the provider's fault, never a 500
        logger.exception("regenerating shot %s: the text provider failed unexpectedly", request.shot_id)
        raise ApiError(
            f"The text model's answer could not be used ({error.__class__.__name__}). The shot is unchanged; "
            "try again.",
            code="provider_error",
            status=502,
        ) from error


def provider_failed(error: ProviderError) -> ApiError:
    """A provider's failure as the API says it: 503 when it may work later (or needs a key), 502 when
    it refused; the provider's own words, and that the shot is unchanged."""
    unavailable = error.transient or isinstance(error, ProviderNotConfigured)
    details: dict = {"provider": providers.provider_name("text"), "retryable": error.transient}
    if error.transient:
        details["retry_after_seconds"] = 5
    return ApiError(
        f"{error.message.rstrip('.')}. The shot is unchanged.",
        code=error.code,
        status=503 if unavailable else 502,
        details=details,
    )


@transaction.atomic
def _write(storyboard: Node, shot_id: str, rewritten: RewrittenShot, names: list[str], user) -> Node:
    """The rewritten shot into the shots as they are now; the other rows are written back untouched."""
    services.lock_graph(storyboard.project_id)
    node = services.current(Node, storyboard, "node")
    rows = node.params.get("shots") or (node.selected_take.details.get("shots", []) if node.selected_take else [])
    ids = [row.get("id") for row in rows]
    if shot_id not in ids:  # removed while the model wrote it
        raise _no_such_shot(shot_id, ids)
    index = ids.index(shot_id)
    shot = kept_rewrite(rewritten.shot, Shot.model_validate(rows[index]), names, first=index == 0)
    rows = [*rows[:index], shot.model_dump(mode="json"), *rows[index + 1 :]]
    logger.info("shot %s of %s rewritten by %s (%s)", shot_id, node.id, rewritten.provider, rewritten.model)
    return editing.update_node(node, user, node.version, {"params": {"shots": rows}})
