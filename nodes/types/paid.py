"""Paid work: what identifies a request, and the step of the node types whose provider makes the work
in one request (an image, a piece of music) with no idempotency key."""

import dataclasses
import hashlib
import json
from pathlib import Path

from nodes.types.base import RunContext, Usage


def fingerprint(request) -> str:
    """What identifies a request: its fields, with each file's content instead of its (scratch) path."""

    def plain(value):
        if isinstance(value, Path):
            return hashlib.sha256(value.read_bytes()).hexdigest()
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        if dataclasses.is_dataclass(value):
            return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
        return value

    return hashlib.sha256(json.dumps(plain(request), sort_keys=True).encode()).hexdigest()


def made_once(ctx: RunContext, provider, request, *, capability: str):
    """Ask `provider` to make `request` (an "image", a piece of "music"), recorded first: until the answer
    is in hand a crash leaves an outcome nobody knows, which is never asked again on its own. The result,
    its model kept and its one item counted for the price."""
    ctx.begin_submit(fingerprint(request), model=request.model, provider=provider, made=capability)
    result = provider.generate(request, ctx.workdir)
    ctx.end_submit()
    ctx.state["model"] = result.model
    ctx.record_usage(Usage(capability, items=1, model=result.model))
    return result
