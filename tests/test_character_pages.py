import numpy as np
import pytest
from django.urls import reverse

from characters.models import Character
from tests.graphs import add, upload
from tests.unchanged import changes_since, snapshot

pytestmark = pytest.mark.django_db


def face(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=512).astype(np.float32)


@pytest.fixture
def twins(alice, project):
    """The same person found twice (two photos), as face detection would leave them."""
    first = Character.objects.create(owner=alice, name="Ada", embedding=face(1), source_asset=upload(project))
    second = Character.objects.create(
        owner=alice, name="Ada again", embedding=face(1) + 0.01, source_asset=upload(project, "chelsea.png")
    )
    return first, second


def test_the_library_lists_my_characters_only(client, alice, bob, twins):
    Character.objects.create(owner=bob, name="Bob's friend", embedding=face(3))
    client.force_login(alice)

    response = client.get(reverse("characters"))

    assert [card["character"].name for card in response.context["cards"]] == ["Ada", "Ada again"]
    assert b"Bob&#x27;s friend" not in response.content
    assert all(card["face"].startswith("/media/") for card in response.context["cards"])


def test_similar_characters_are_ranked_by_their_faces(client, alice, twins):
    Character.objects.create(owner=alice, name="Stranger", embedding=face(9))
    client.force_login(alice)

    response = client.get(reverse("character-similar", args=[twins[0].id]))

    rows = response.context["rows"]
    assert [row["character"].name for row in rows] == ["Ada again", "Stranger"]
    assert rows[0]["similarity"] > 0.99 > rows[1]["similarity"]


def test_renaming_needs_a_name(client, alice, twins):
    client.force_login(alice)
    url = reverse("character-rename", args=[twins[0].id])
    before = snapshot()

    empty = client.post(url, {"name": "  "})
    assert changes_since(before) == {}
    renamed = client.post(url, {"name": "Ada Lovelace"})

    assert empty.context["error"] == "A name is needed."
    assert renamed.status_code == 200
    twins[0].refresh_from_db()
    assert twins[0].name == "Ada Lovelace"
    assert "Ada Lovelace" in renamed.content.decode()  # what the page shows after the rename


def test_merging_keeps_one_character_with_both_photos_and_repoints_outputs(client, alice, project, twins):
    first, second = twins
    node = add(project, "image")
    node.output = {"character": str(second.id)}
    node.save()
    client.force_login(alice)

    response = client.post(reverse("character-merge", args=[second.id]), {"into": str(first.id)})

    assert response["Location"] == reverse("characters")
    assert not Character.objects.filter(pk=second.pk).exists()
    assert set(first.reference_assets.all()) == {second.source_asset}
    node.refresh_from_db()
    assert node.output == {"character": str(first.id)}
    first.refresh_from_db()
    assert (first.name, first.source_asset_id) == ("Ada", twins[0].source_asset_id)  # the one kept is unchanged


def test_merging_into_a_bad_choice_says_so_and_changes_nothing(client, alice, bob, twins):
    theirs = Character.objects.create(owner=bob, name="Bob's", embedding=face(4))
    client.force_login(alice)
    url = reverse("character-merge", args=[twins[1].id])
    before = snapshot()

    for into in ("not-a-uuid", str(theirs.id), str(twins[1].id)):
        response = client.post(url, {"into": into}, follow=True)
        assert response.status_code == 200
        assert any("Merge into" in str(m) or "itself" in str(m) for m in response.context["messages"]), into
    assert Character.objects.filter(owner=alice).count() == 2
    assert changes_since(before) == {}  # no photo moved, bob's untouched


def test_deleting_asks_first(client, alice, twins):
    client.force_login(alice)
    url = reverse("character-delete", args=[twins[0].id])

    before = snapshot()
    confirm = client.get(url)
    asking_changed = changes_since(before)
    deleted = client.post(url)

    assert confirm.status_code == 200 and asking_changed == {}
    assert "Ada" in confirm.content.decode()  # it names what would go
    assert deleted["Location"] == reverse("characters")
    assert not Character.objects.filter(pk=twins[0].pk).exists()
    assert set(Character.objects.values_list("name", flat=True)) == {"Ada again"}


def test_another_users_character_is_a_404(client, bob, twins):
    client.force_login(bob)
    before = snapshot()

    assert client.get(reverse("character-similar", args=[twins[0].id])).status_code == 404
    assert client.post(reverse("character-rename", args=[twins[0].id]), {"name": "x"}).status_code == 404
    assert client.post(reverse("character-merge", args=[twins[0].id]), {"into": str(twins[1].id)}).status_code == 404
    assert client.post(reverse("character-delete", args=[twins[0].id])).status_code == 404
    assert Character.objects.filter(pk=twins[0].pk, name="Ada").exists()
    assert changes_since(before) == {}
