"""Expanding a storyboard into nodes, through the API as the canvas calls it: what is made and wired,
in which order the film's shots come, and what expanding again after edits does (and does not) change."""

import pytest

from generation.planning import plan_run
from nodes.models import Edge, Node, Note
from projects.models import Membership
from tests.api import Api, error_of
from tests.graphs import add, run_here, upload, wire

pytestmark = [pytest.mark.django_db(transaction=True)]

SHOTS = [
    {"id": "ridge", "description": "Mist over the ridge at dawn.", "seconds": 8, "camera": "wide"},
    {"id": "lace", "description": "Maya laces her shoes.", "seconds": 6, "characters": ["Maya"]},
    {"id": "run", "description": "She sets off running.", "seconds": 6, "continues": True},
    {"id": "finish", "description": "She reaches the summit.", "seconds": 8, "characters": ["Maya"]},
]


@pytest.fixture
def board(project, alice, redis):
    """A storyboard with its shots written, and Maya (an uploaded face) connected as a character."""
    face = add(project, "image", "Maya photo", asset_id=str(upload(project).id))
    run_here(plan_run(project, [face.id], user=alice).run, face)
    face.refresh_from_db()
    assert Api(alice).patch(f"/characters/{face.output['character']}", {"name": "Maya"}).status_code == 200
    brief = add(project, "prompt", "Brief", text="A trail-running shoe ad with Maya")
    look = add(project, "image", "Look", asset_id=str(upload(project, "chelsea.png").id))
    board = add(project, "storyboard", "Shoe ad", shots=SHOTS)
    wire(brief, "text", board, "brief")
    wire(face, "character", board, "characters")
    wire(look, "image", board, "style")
    return board


def expand(api, board):
    return api.post(f"/projects/{board.project_id}/nodes/{board.id}/expand")


def made(board, role: str) -> list[Node]:
    """The expansion's nodes of one role, in shot order."""
    order = [shot["id"] for shot in Node.objects.get(pk=board.pk).params["shots"]] + ["film"]
    nodes = Node.objects.filter(origin__storyboard=str(board.id), origin__role=role)
    return sorted(nodes, key=lambda node: order.index(node.origin["shot"]))


def source_of(node: Node, port: str) -> list[tuple[Node, str]]:
    return [
        (edge.source, edge.source_port) for edge in Edge.objects.filter(target=node, target_port=port).order_by("order")
    ]


def test_each_shot_becomes_a_prompt_a_video_and_for_a_cut_a_keyframe_all_stitched_in_shot_order(board, alice):
    answer = expand(Api(alice), board)

    assert answer.status_code == 200, answer.json()
    prompts, keyframes, videos = made(board, "prompt"), made(board, "keyframe"), made(board, "video")
    assert [p.params["text"] for p in prompts] == [
        "Mist over the ridge at dawn. Camera: wide.",
        "Maya laces her shoes.",
        "She sets off running.",
        "She reaches the summit.",
    ]
    assert [v.params["duration_seconds"] for v in videos] == [8, 6, 6, 8]
    assert [k.origin["shot"] for k in keyframes] == ["ridge", "lace", "finish"]  # "run" continues: no keyframe
    # A cut starts on its keyframe; the continuation on the previous shot's last frame.
    assert [source_of(v, "first_frame") for v in videos] == [
        [(keyframes[0], "image")],
        [(keyframes[1], "image")],
        [(videos[1], "last_frame")],
        [(keyframes[2], "image")],
    ]
    assert all(source_of(v, "prompt") == [(p, "text")] for v, p in zip(videos, prompts, strict=True))
    # The style image is a reference of every keyframe; Maya of the keyframes of the shots she is in.
    look = Node.objects.get(title="Look")
    assert [source_of(k, "references") for k in keyframes] == [[(look, "image")]] * 3
    maya = Node.objects.get(title="Maya photo")
    assert [source_of(k, "characters") for k in keyframes] == [[], [(maya, "character")], [(maya, "character")]]
    (film,) = made(board, "stitch")
    assert source_of(film, "videos") == [(video, "video") for video in videos]
    # A soundtrack: music from a prompt of the brief, under the shots' own sound.
    (music,) = made(board, "music")
    (music_prompt,) = made(board, "music-prompt")
    assert source_of(film, "audio") == [(music, "audio")] and film.params["mix"] == "duck"
    assert source_of(music, "prompt") == [(music_prompt, "text")]
    assert music.params["seconds"] == 28
    assert music_prompt.params["text"] == "Cinematic music for a 28-second film: A trail-running shoe ad with Maya"
    # Laid out left to right in shot order, inside the frame note.
    assert [p.x for p in prompts] == sorted(p.x for p in prompts) and prompts[0].x > board.x
    frame = Note.objects.get(pk=answer.json()["frame"])
    assert frame.text.startswith("Storyboard: Shoe ad - 4 shots, 28 s.")
    inside = [n for n in Node.objects.filter(origin__storyboard=str(board.id))]
    assert all(frame.x <= n.x <= frame.x + frame.width and frame.y <= n.y <= frame.y + frame.height for n in inside)
    created = set(answer.json()["created"])
    assert created == {str(n.id) for n in inside} and answer.json()["kept"] == []


def test_expanding_again_without_changes_changes_nothing(board, alice):
    api = Api(alice)
    expand(api, board)
    before = {(n.id, n.version, str(n.params)) for n in Node.objects.filter(project=board.project)}
    edges = set(Edge.objects.filter(project=board.project).values_list("id", flat=True))

    again = expand(api, board).json()

    assert (again["created"], again["updated"], again["deleted"], again["edges"]) == ([], [], [], [])
    assert {(n.id, n.version, str(n.params)) for n in Node.objects.filter(project=board.project)} == before
    assert set(Edge.objects.filter(project=board.project).values_list("id", flat=True)) == edges
    assert Note.objects.filter(project=board.project).count() == 1


def test_an_edited_shot_updates_its_nodes_and_a_removed_one_goes(board, alice):
    api = Api(alice)
    expand(api, board)
    lace_prompt, lace_keyframe = made(board, "prompt")[1], made(board, "keyframe")[1]
    shots = [dict(shot) for shot in SHOTS if shot["id"] != "finish"]
    shots[1]["description"] = "Maya tightens her laces, close-up."
    shots[1]["characters"] = []  # Maya is no longer in it
    board.refresh_from_db()
    api.patch(f"/projects/{board.project_id}/nodes/{board.id}", {"version": board.version, "params": {"shots": shots}})

    again = expand(api, board).json()

    lace_prompt.refresh_from_db()
    assert lace_prompt.params["text"] == "Maya tightens her laces, close-up."  # the same node, updated
    # The film is shorter now: its music and the music's prompt follow.
    music, music_prompt = made(board, "music")[0], made(board, "music-prompt")[0]
    assert set(again["updated"]) == {str(lace_prompt.id), str(music.id), str(music_prompt.id)}
    assert {"id": str(lace_prompt.id), "params": {"text": "Maya laces her shoes."}} in again["restored"]
    assert music.params["seconds"] == 20
    assert {gone["origin"]["shot"] for gone in again["deleted"]} == {"finish"}
    assert not Node.objects.filter(origin__shot="finish").exists()
    assert source_of(lace_keyframe, "characters") == []
    (film,) = made(board, "stitch")
    assert [source.origin["shot"] for source, _ in source_of(film, "videos")] == ["ridge", "lace", "run"]


def test_a_node_the_user_changed_is_left_as_it_is_and_said(board, alice):
    api = Api(alice)
    expand(api, board)
    first = made(board, "prompt")[0]
    api.patch(f"/projects/{board.project_id}/nodes/{first.id}", {"version": first.version, "params": {"text": "Mine."}})
    shots = [dict(shot) for shot in SHOTS]
    shots[0]["description"] = "Fog over the valley."
    board.refresh_from_db()
    api.patch(f"/projects/{board.project_id}/nodes/{board.id}", {"version": board.version, "params": {"shots": shots}})

    again = expand(api, board).json()

    first.refresh_from_db()
    assert first.params["text"] == "Mine."
    assert again["kept"] == [{"id": str(first.id), "title": "Shot 1", "why": "you changed its settings"}]
    assert str(first.id) not in again["updated"]


@pytest.mark.parametrize("who", ["viewer", "stranger"])
def test_only_an_editor_may_expand_and_a_refusal_changes_nothing(board, bob, add_member, who):
    if who == "viewer":
        add_member(bob, Membership.Role.VIEWER)
    before = Node.objects.filter(project=board.project).count()

    refused = expand(Api(bob), board)

    assert refused.status_code == (403 if who == "viewer" else 404)
    assert Node.objects.filter(project=board.project).count() == before
    assert not Note.objects.filter(project=board.project).exists()


def test_a_storyboard_without_shots_or_another_node_cannot_be_expanded(project, alice, redis):
    api = Api(alice)
    empty = add(project, "storyboard", "Empty")
    prompt = add(project, "prompt", "Not a storyboard", text="x")

    no_shots, not_one = expand(api, empty), expand(api, prompt)

    assert no_shots.status_code == not_one.status_code == 409
    assert (error_of(no_shots)["code"], error_of(not_one)["code"]) == ("no_shots", "not_a_storyboard")
    assert error_of(no_shots)["message"] == "The storyboard has no shots yet: run it, or write its shots, then expand."
    assert error_of(not_one)["message"] == "Only a Storyboard node can be expanded."
    assert Node.objects.filter(project=project).count() == 2


def test_an_update_undone_is_not_taken_for_the_users_change(board, alice):
    """Undo puts the params an update replaced back (the answer's `restored`); expanding again then
    updates the node again rather than keeping it as the user's."""
    api = Api(alice)
    expand(api, board)
    shots = [dict(shot) for shot in SHOTS]
    shots[0]["description"] = "Fog over the valley."
    board.refresh_from_db()
    api.patch(f"/projects/{board.project_id}/nodes/{board.id}", {"version": board.version, "params": {"shots": shots}})
    updated = expand(api, board).json()
    (restored,) = updated["restored"]
    node = Node.objects.get(pk=restored["id"])
    api.patch(f"/projects/{board.project_id}/nodes/{node.id}", {"version": node.version, "params": restored["params"]})

    again = expand(api, board).json()

    assert (again["updated"], again["kept"]) == ([restored["id"]], [])
    assert Node.objects.get(pk=node.pk).params["text"] == "Fog over the valley. Camera: wide."
    assert updated["frame_created"] is False and again["frame"] == updated["frame"]
