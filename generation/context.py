"""The RunContext a node type gets in a worker: its inputs, providers, storage and progress reporting."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from django.utils import timezone

import providers
from assets import media, storage
from assets.models import Asset
from characters.models import Character
from characters.services import match_or_create
from generation.models import Job
from nodes.graph import output_identity
from nodes.models import Node, Take
from nodes.registry import get_node_type
from nodes.types.base import AssetValue, CharacterValue, NodeError, Usage
from providers.contract import SubmitOutcomeUnknown


def embedding_model(provider) -> str:
    """Which face model made an embedding: only embeddings of one model can be compared."""
    return f"{provider.name}:{provider.model}"


def asset_value(asset: Asset) -> AssetValue:
    return AssetValue(
        id=str(asset.id),
        kind=asset.kind,
        sha256=asset.sha256,
        provider=asset.provider,
        duration=asset.duration_seconds,
        meta={**asset.meta, "width": asset.width, "height": asset.height},
    )


class RunContext:
    """The engine's implementation of the node types' `RunContext` protocol (nodes/types/base.py):
    what one job's node type gets to run, bound to that job."""

    media = media

    def __init__(self, job: Job, params, workdir: Path, report_progress) -> None:
        self.job = job
        self.params = params
        self.variation = job.variation
        self.workdir = workdir
        self.state: dict[str, Any] = job.state
        self.operation = job.provider_operation or None
        self.usages: list[Usage] = []
        self.providers_used: list[tuple[str, str]] = []
        # Who made the files this step saved (ffmpeg for a stitch): the maker when no provider was used.
        self.makers: list[tuple[str, str]] = []
        self._report_progress = report_progress
        self._assets: dict[str, Asset] = {}
        self.inputs, self.input_identities = self._resolve_inputs()

    # Providers, chosen by settings the first time a node type asks for one.
    @cached_property
    def video(self):
        return self._use(providers.video_provider())

    @cached_property
    def image(self):
        return self._use(providers.image_provider())

    @cached_property
    def music(self):
        return self._use(providers.music_provider())

    @cached_property
    def text(self):
        return self._use(providers.text_provider())

    @cached_property
    def faces(self):
        return self._use(providers.face_provider())

    def _use(self, provider):
        self.providers_used.append((provider.name, getattr(provider, "model", "")))
        return provider

    def progress(self, fraction: float, label: str) -> None:
        self._report_progress(self.job, fraction, label)

    def _asset(self, asset_id: str) -> Asset:
        if asset_id not in self._assets:
            asset = Asset.objects.filter(project_id=self.job.project_id, pk=asset_id).first()
            if asset is None:
                raise NodeError("A file this node uses is gone: upload it again.", code="missing_asset")
            self._assets[asset_id] = asset
        return self._assets[asset_id]

    def asset(self, asset_id: str) -> AssetValue:
        return asset_value(self._asset(asset_id))

    def path(self, asset: AssetValue) -> Path:
        return storage.local_path(self._asset(asset.id), self.workdir)

    def save(self, path: Path, kind: str, *, provider: str, model: str = "", meta: dict | None = None) -> str:
        self.makers.append((provider, model))
        meta = dict(meta or {}) | {"job": str(self.job.id)}  # so a collection cut short can be cleaned up
        if kind == "video":
            # A still for the player to show before it plays.
            still = media.poster(path, self.workdir / f"{path.stem}-poster.png")
            meta["poster"] = self.save(still, "image", provider="ffmpeg", model="poster")
        asset = storage.store_file(
            self.job.project, path, kind, provider=provider, model=model, meta=meta, created_by=self.job.created_by
        )
        self._assets[str(asset.id)] = asset
        return str(asset.id)

    def discard_unfinished_outputs(self) -> int:
        """Delete what an earlier step of this job stored but never recorded (its worker died while it
        collected). A job stores its outputs and records its take in the same, last step. A job keeping
        a canceled one's video also clears what the canceled one stored when it was stopped collecting."""
        jobs = [str(self.job.id), *filter(None, [self.state.get("kept_from")])]
        if Take.objects.filter(job_id__in=jobs).exists():
            return 0
        leftovers = list(Asset.objects.filter(project_id=self.job.project_id, meta__job__in=jobs))
        for asset in leftovers:
            asset.file.delete(save=False)
            asset.delete()
        return len(leftovers)

    def face_model(self) -> str:
        return embedding_model(self.faces)

    def record_usage(self, usage: Usage) -> None:
        self.usages.append(usage)

    def begin_submit(self, fingerprint: str, *, model: str, provider, made: str = "video") -> None:
        if "submitting" in self.state:
            raise SubmitOutcomeUnknown("an earlier attempt was stopped while it submitted, before the answer was saved")
        started = timezone.now().isoformat()
        self.state["submitting"] = {"at": started, "fingerprint": fingerprint, "provider": provider.label, "made": made}
        self.state["model"] = model  # the provider object may serve several models (Veo 3.1 and Fast)
        # Committed before the request leaves: recovery must see it even if this process dies next.
        Job.objects.filter(pk=self.job.pk, status=Job.Status.RUNNING).update(state=self.state)

    def end_submit(self) -> None:
        # Saved with the step's ending (the stored operation, or the take): until then a crash still
        # leaves an outcome nobody knows, and the user is asked.
        self.state.pop("submitting", None)

    def character_for(self, face, image: AssetValue, provider) -> str:
        project = self.job.project
        match = match_or_create(
            owner=project.owner,
            project=project,
            face=face,
            source_asset=self._asset(image.id),
            embedding_model=embedding_model(provider),
            threshold=provider.match_threshold,
        )
        if match.character.face_asset_id is None:
            self._crop_face(match.character, face, image)
        self.state["character"] = {
            "id": str(match.character.id),
            "name": match.character.name,
            "created": match.created,
            "similarity": None if match.similarity is None else round(match.similarity, 4),
            "approximate": provider.approximate,
        }
        return str(match.character.id)

    def _crop_face(self, character: Character, face, image: AssetValue) -> None:
        crop = media.face_crop(self.path(image), face.bbox, self.workdir / f"face-{character.id}.png")
        stored = storage.store_file(
            self.job.project, crop, "image", provider="reelgraph", model="face-crop", created_by=self.job.created_by
        )
        Character.objects.filter(pk=character.pk, face_asset__isnull=True).update(face_asset=stored)

    def own_character(self, character_id: str) -> CharacterValue:
        owners = {self.job.project.owner_id, self.job.created_by_id} - {None}
        character = (
            Character.objects.select_related("source_asset")
            .filter(pk=character_id, owner_id__in=owners, hidden_at__isnull=True)
            .first()
        )
        if character is None:
            raise NodeError(
                "This character is not in your library (deleted, hidden, or someone else's): choose another.",
                code="missing_character",
            )
        return self._character_value(character)

    def _resolve_inputs(self) -> tuple[dict[str, list[Any]], dict[str, list[str]]]:
        """Each input port's values, from the selected takes of the nodes wired to it when the run was planned."""
        node_type = get_node_type(self.job.node.type)
        wiring: dict[str, list[dict[str, str]]] = self.state.get("wiring", {})
        sources = Node.objects.in_bulk([link["node"] for links in wiring.values() for link in links])
        sources = {str(node_id): node for node_id, node in sources.items()}
        inputs: dict[str, list[Any]] = {}
        identities: dict[str, list[str]] = {}
        for port_name, links in wiring.items():
            port = node_type.input(port_name)
            values, keys = [], []
            for link in links:
                source = sources.get(link["node"])
                take = source.selected_take if source else None
                raw = take.outputs.get(link["port"]) if take else None
                if raw is None:
                    continue  # e.g. an image without a face has no character
                values.append(self._value(port.kind, raw))
                keys.append(output_identity(take.cache_key, str(take.id), link["port"]))
            if port.required and not values:
                raise NodeError(f"Nothing arrived at {port.title}: run the node connected to it first.")
            inputs[port_name], identities[port_name] = values, keys
        return inputs, identities

    def _value(self, kind: str, raw: Any) -> Any:
        if kind == "text":
            return str(raw)
        if kind == "character":
            character = Character.objects.select_related("source_asset").filter(pk=raw).first()
            if character is None:
                raise NodeError("A character this node uses was deleted.", code="missing_character")
            return self._character_value(character)
        return self.asset(str(raw))

    def _character_value(self, character: Character) -> CharacterValue:
        reference = asset_value(character.source_asset) if character.source_asset else None
        if reference is not None:
            self._assets[reference.id] = character.source_asset
        return CharacterValue(
            id=str(character.id),
            name=character.name,
            reference=reference,
            embedding=tuple(float(value) for value in character.embedding),
            embedding_model=character.embedding_model,
        )
