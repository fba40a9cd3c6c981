"""Expanding a storyboard: its shots become nodes on the canvas, inside a labelled frame.

Per shot a Prompt and a Video; a shot that cuts gets a Generate image keyframe as the video's first
frame (with the characters who appear in it as references); a shot that continues starts on the
previous shot's last frame. Every video feeds one Stitch, in shot order, with a Music soundtrack.
Each node made records its origin (storyboard, shot id, role, the params
written), so expanding again after editing the shots updates those nodes instead of adding more, and
leaves alone any node the user changed since (said in the answer). Nodes of shots that are gone are
deleted when unchanged; changed ones are kept, cut out of the film, and named in the answer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from django.db import transaction

from characters.models import Character
from config.errors import Conflict
from live import events, snapshot
from nodes import notes, services
from nodes.models import Edge, Node, Note
from nodes.registry import NODE_TYPES
from nodes.types.storyboard import Shot, StoryboardParams

COLUMN, ROW = 300, 380  # canvas units between the shots' columns and the roles' rows: room for a card with its output
ROWS = {"prompt": 0, "keyframe": 1, "video": 2}


@dataclass
class Expansion:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[dict] = field(default_factory=list)  # what each deleted node was, to undo it
    kept: list[dict] = field(default_factory=list)  # {"id", "title", "why"}
    edges: list[str] = field(default_factory=list)  # edges made between nodes that were already there
    restored: list[dict] = field(default_factory=list)  # {"id", "params"} before an update, to undo it
    frame: str = ""
    frame_created: bool = False
    film: str = ""  # the Stitch that cuts the shots together

    def kept_ids(self) -> set[str]:
        return {kept["id"] for kept in self.kept}

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def shots_of(storyboard: Node, params: StoryboardParams) -> list[Shot]:
    """The shots the storyboard shows: as the user edited them, or as its last run planned them."""
    if params.shots:
        return list(params.shots)
    take = storyboard.selected_take
    return [Shot.model_validate(shot) for shot in (take.details.get("shots", []) if take else [])]


def brief_of(storyboard: Node) -> str:
    """The brief connected to the storyboard: its source's output, or the text it was given."""
    edge = Edge.objects.filter(target=storyboard, target_port="brief").select_related("source").first()
    if edge is None:
        return ""
    source = edge.source
    return str(source.output.get(edge.source_port) or source.params.get("text") or "")


def character_sources(storyboard: Node) -> dict[str, tuple[Node, str]]:
    """Each connected character's node and port, by the character's name (as the run saw it)."""
    edges = list(Edge.objects.filter(target=storyboard, target_port="characters").select_related("source"))
    ids = {edge.source.output.get(edge.source_port) for edge in edges} - {None}
    names = {str(pk): name for pk, name in Character.objects.filter(pk__in=ids).values_list("pk", "name")}
    return {
        names[edge.source.output[edge.source_port]]: (edge.source, edge.source_port)
        for edge in edges
        if edge.source.output.get(edge.source_port) in names
    }


@transaction.atomic
def expand(storyboard: Node, user) -> Expansion:
    services.lock_graph(storyboard.project_id)
    storyboard = Node.objects.select_related("selected_take", "project").get(pk=storyboard.pk)
    if storyboard.type != "storyboard":
        raise Conflict("Only a Storyboard node can be expanded.", code="not_a_storyboard")
    params = StoryboardParams.model_validate(storyboard.params)
    shots = shots_of(storyboard, params)
    if not shots:
        raise Conflict(
            "The storyboard has no shots yet: run it, or write its shots, then expand.",
            code="no_shots",
            details={"field": "shots"},
        )
    builder = _Builder(storyboard, params, user)
    builder.build(shots)
    events.broadcast(storyboard.project_id, snapshot.graph_snapshot(storyboard.project))
    return builder.result


class _Builder:
    def __init__(self, storyboard: Node, params: StoryboardParams, user) -> None:
        self.storyboard, self.params, self.project, self.user = storyboard, params, storyboard.project, user
        self.result = Expansion()
        self.mine = {
            (node.origin.get("shot"), node.origin.get("role")): node
            for node in Node.objects.filter(project=self.project, origin__storyboard=str(storyboard.id))
        }
        self.touched: set[str] = set()
        self.sources = character_sources(storyboard)
        style = Edge.objects.filter(target=storyboard, target_port="style").select_related("source").first()
        self.style = (style.source, style.source_port) if style else None

    def build(self, shots: list[Shot]) -> None:
        x0, y0 = self.storyboard.x + 380, self.storyboard.y
        videos = []
        for index, shot in enumerate(shots):
            x = x0 + index * COLUMN
            prompt = self._node(shot.id, "prompt", "prompt", f"Shot {index + 1}", x, y0, {"text": _prompt_text(shot)})
            video_params = {
                "model": self.params.video_model,
                "aspect_ratio": self.params.aspect_ratio,
                "duration_seconds": shot.seconds,
            }
            video = self._node(shot.id, "video", "video", f"Shot {index + 1} video", x, y0 + 2 * ROW, video_params)
            self._wire(prompt, "text", video, "prompt")
            if shot.continues and videos:
                self._wire(videos[-1], "last_frame", video, "first_frame")
            else:
                keyframe = self._node(
                    shot.id,
                    "keyframe",
                    "generate_image",
                    f"Shot {index + 1} keyframe",
                    x,
                    y0 + ROW,
                    {"aspect_ratio": self.params.aspect_ratio},
                )
                self._wire(prompt, "text", keyframe, "prompt")
                if self.style:
                    self._wire(*self.style, keyframe, "references")  # every keyframe keeps the film's look
                self._cast(keyframe, shot)
                self._wire(keyframe, "image", video, "first_frame")
            videos.append(video)
        end = x0 + len(shots) * COLUMN
        # The shots keep their own sound (Veo makes it), the music pressed down under it.
        stitch = self._node("film", "stitch", "stitch", "Film", end, y0 + 2 * ROW, {"mix": "duck"})
        self.result.film = str(stitch.id)
        for video in videos:
            self._wire(video, "video", stitch, "videos")
        self._order(stitch, videos)
        self._soundtrack(stitch, end, y0, sum(shot.seconds for shot in shots))
        self._remove_the_rest(stitch)
        self._frame(x0, y0, end, shots)

    def _cast(self, keyframe: Node, shot: Shot) -> None:
        """The shot's characters into its keyframe, and no longer those the edited shot left out."""
        wanted = [self.sources[name] for name in shot.characters if name in self.sources]
        for source, port in wanted:
            self._wire(source, port, keyframe, "characters")
        if str(keyframe.id) in self.result.kept_ids():
            return
        left_out = {source.id for source, _ in self.sources.values()} - {source.id for source, _ in wanted}
        Edge.objects.filter(target=keyframe, target_port="characters", source_id__in=left_out).delete()

    def _soundtrack(self, stitch: Node, x: float, y: float, seconds: int) -> None:
        mood = self.params.tone or "cinematic"
        text = f"{mood.capitalize()} music for a {seconds}-second film: {brief_of(self.storyboard)}"[:4000]
        prompt = self._node("film", "music-prompt", "prompt", "Soundtrack prompt", x, y, {"text": text})
        music = self._node("film", "music", "music", "Soundtrack", x, y + ROW, {"seconds": seconds})
        self._wire(prompt, "text", music, "prompt")
        self._wire(music, "audio", stitch, "audio")

    def _frame(self, x0: float, y0: float, end: float, shots: list[Shot]) -> None:
        """A note behind the expanded nodes, saying what they are."""
        seconds = sum(shot.seconds for shot in shots)
        fields = {
            "text": f"Storyboard: {self.storyboard.title or 'shots'} - {len(shots)} shots, {seconds} s. "
            "Made by Expand; edit the storyboard and expand again to update.",
            "x": x0 - 30,
            "y": y0 - 90,
            "width": end - x0 + COLUMN + 30,
            "height": 3 * ROW + 110,
            "color": Note.Color.BLUE,
        }
        frame = Note.objects.filter(project=self.project, origin__storyboard=str(self.storyboard.id)).first()
        if frame is None:
            frame = notes.add_note(self.project, self.user, origin={"storyboard": str(self.storyboard.id)}, **fields)
            self.result.frame_created = True
        else:
            Note.objects.filter(pk=frame.pk).update(version=frame.version + 1, **fields)
        self.result.frame = str(frame.id)

    # Nodes ---------------------------------------------------------------------------------------

    def _node(self, shot: str, role: str, type: str, title: str, x: float, y: float, params: dict) -> Node:
        written = services.validated_params(type, params)
        origin = {"storyboard": str(self.storyboard.id), "shot": shot, "role": role, "written": written}
        node = self.mine.get((shot, role))
        if node is None:
            node = services.add_node(self.project, type=type, title=title, x=x, y=y, params=params)
            Node.objects.filter(pk=node.pk).update(origin=origin)
            self.result.created.append(str(node.id))
            self.touched.add(str(node.id))
            return node
        self.touched.add(str(node.id))
        if not _as_written(node):
            self.result.kept.append({"id": str(node.id), "title": node.title, "why": "you changed its settings"})
            return node
        if node.params != written:
            self.result.restored.append({"id": str(node.id), "params": node.params})
            # What it held before stays "as written" too, so undoing this update is not taken for an edit.
            origin["earlier"] = [node.origin["written"], *node.origin.get("earlier", [])][:5]
            Node.objects.filter(pk=node.pk).update(params=written, origin=origin, version=node.version + 1)
            self.result.updated.append(str(node.id))
            node.refresh_from_db()
        return node

    def _remove_the_rest(self, stitch: Node) -> None:
        """Nodes of shots no longer in the storyboard: deleted if unchanged, else kept out of the film."""
        for node in self.mine.values():
            if str(node.id) in self.touched:
                continue
            if _as_written(node):
                self.result.deleted.append(_exported(node))
                services.delete_node(node)
                continue
            Edge.objects.filter(source=node, target=stitch).delete()
            self.result.kept.append(
                {"id": str(node.id), "title": node.title, "why": "its shot is gone; you changed it"}
            )

    # Edges ---------------------------------------------------------------------------------------

    def _wire(self, source: Node, source_port: str, target: Node, target_port: str) -> None:
        if str(target.id) in self.result.kept_ids():
            return  # a node the user changed keeps its own inputs
        if Edge.objects.filter(source=source, source_port=source_port, target=target, target_port=target_port).exists():
            return
        multi = NODE_TYPES[target.type].input(target_port).multi
        edge, _ = services.connect(
            self.project,
            source=source,
            source_port=source_port,
            target=target,
            target_port=target_port,
            replace=not multi,  # a single input is ours to set (a continuation's first frame, say)
        )
        if not {str(source.id), str(target.id)} & set(self.result.created):
            self.result.edges.append(str(edge.id))

    def _order(self, stitch: Node, videos: list[Node]) -> None:
        edges = {edge.source_id: edge for edge in Edge.objects.filter(target=stitch, target_port="videos")}
        ours = [str(edges[video.id].id) for video in videos]
        others = [str(edge.id) for source, edge in edges.items() if source not in {video.id for video in videos}]
        services.reorder_inputs(stitch, "videos", ours + others)


def _as_written(node: Node) -> bool:
    """The node's settings are ones an expansion wrote (now or before an undone update): not the user's."""
    return node.params in [node.origin.get("written"), *node.origin.get("earlier", [])]


def _prompt_text(shot: Shot) -> str:
    return f"{shot.description} Camera: {shot.camera}." if shot.camera else shot.description


def _exported(node: Node) -> dict:
    """What a deleted node was, enough to make it again."""
    return services.node_fields(node) | {"origin": node.origin}
