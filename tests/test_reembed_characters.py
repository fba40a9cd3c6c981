"""manage.py reembed_characters: characters made by the Haar fallback (which cannot tell that two
photos show one person) re-embedded with SFace, the merges that shows reported, then made on request."""

from io import StringIO

import pytest
from django.core.management import call_command

from characters.models import Character
from generation.models import Run
from generation.planning import plan_run
from tests import photos
from tests.graphs import wait_for_run
from tests.test_faces import photo_node

SFACE = "local:sface-2021dec-int8bq"
HAAR = "local:opencv-haar-frontalface"


def reembed(*args) -> str:
    out = StringIO()
    call_command("reembed_characters", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_haar_characters_are_reembedded_and_the_same_person_merged_only_when_asked(project, alice, workers, tmp_path):
    nodes = [
        photo_node(project, photos.ASTRONAUT, "Astronaut"),
        photo_node(project, photos.another_photo(photos.ASTRONAUT, tmp_path), "Astronaut again"),
        photo_node(project, photos.one_of_six(tmp_path), "One of six"),
    ]
    workers.start(1, REELGRAPH_FACE_MODEL_DIR=str(tmp_path / "no-models"))  # the Haar fallback
    for node in nodes:
        assert wait_for_run(plan_run(project, [node.id], user=alice).run).status == Run.Status.SUCCEEDED
        node.refresh_from_db()
    first, again, stranger = (Character.objects.get(pk=node.output["character"]) for node in nodes)
    assert {first.embedding_model, again.embedding_model, stranger.embedding_model} == {HAAR}
    assert len({first.pk, again.pk, stranger.pk}) == 3  # Haar: two photos of her are two characters

    report = reembed()

    assert report.splitlines()[0] == f"Re-embedding 3 character(s) with {SFACE}."
    assert f"Would merge {again.name} into {first.name} (similarity" in report
    assert stranger.name not in report
    assert set(Character.objects.values_list("embedding_model", flat=True)) == {SFACE}
    assert Character.objects.count() == 3  # nothing merged without --merge

    # Started again, it has nothing left to re-embed (a stopped run resumes the same way).
    assert reembed().splitlines()[0] == f"Re-embedding 0 character(s) with {SFACE}."

    merged = reembed("--merge")

    assert f"Merged {again.name} into {first.name}" in merged
    assert set(Character.objects.values_list("pk", flat=True)) == {first.pk, stranger.pk}
    assert first.reference_assets.count() == 2
    nodes[1].refresh_from_db()
    assert nodes[1].output["character"] == str(first.pk)  # the node's output follows the merge
