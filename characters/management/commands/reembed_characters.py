"""Re-embed existing characters with the current face model, then report (or make) the merges the
new embeddings show: two characters that are one person.

Each character is updated in its own transaction and only characters made by another model are
picked up, so a run that stops (Ctrl-C, a crash) continues where it stopped when started again.
"""

import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand
from tqdm import tqdm

from actions import editing
from assets import storage
from characters.models import Character
from characters.services import nearest_characters
from generation.context import embedding_model
from providers import face_provider


class Command(BaseCommand):
    help = "Re-embed characters with the current face model; report the merges it shows (--merge makes them)."

    def add_arguments(self, parser):
        parser.add_argument("--owner", help="Only this user's characters (username).")
        parser.add_argument("--merge", action="store_true", help="Make the merges instead of only listing them.")

    def handle(self, *args, owner=None, merge=False, **options):
        provider = face_provider()
        model = embedding_model(provider)
        characters = Character.objects.exclude(embedding_model=model).select_related("source_asset", "owner")
        if owner:
            characters = characters.filter(owner__username=owner)
        self.stdout.write(f"Re-embedding {characters.count()} character(s) with {model}.")
        with tempfile.TemporaryDirectory() as scratch:
            # The raw stream: Django's wrapper ends every write with a newline, which breaks a bar.
            for character in tqdm(list(characters), unit="character", file=self.stderr._out):
                self._reembed(character, provider, model, Path(scratch))
        self._merges(model, provider.match_threshold, owner, merge)

    def _reembed(self, character: Character, provider, model: str, scratch: Path) -> None:
        if character.source_asset is None:
            self.stdout.write(f"  {character.name} ({character.pk}): no photo left to re-embed; kept as it is.")
            return
        faces = provider.analyze(storage.local_path(character.source_asset, scratch)).faces
        if not faces:
            self.stdout.write(f"  {character.name} ({character.pk}): {model} finds no face in its photo; kept.")
            return
        # The largest face: what the image node takes unless the user picked another one.
        face = max(faces, key=lambda found: found.area)
        character.embedding = list(face.embedding)
        character.embedding_model = model
        character.det_score = face.det_score
        character.save(update_fields=["embedding", "embedding_model", "det_score", "updated_at"])

    def _merges(self, model: str, threshold: float, owner: str | None, merge: bool) -> None:
        """Characters of one owner that the model sees as one person, each group into its oldest."""
        for into, sources in merge_groups(model, threshold, owner):
            for source, similarity in sources:
                verb = "Merged" if merge else "Would merge"
                self.stdout.write(f"{verb} {source.name} into {into.name} (similarity {similarity:.2f}).")
                if merge:
                    editing.merge_characters(source, into)
        if not merge:
            self.stdout.write("Run again with --merge to make these merges.")


def merge_groups(model: str, threshold: float, owner: str | None) -> list[tuple[Character, list]]:
    """[(the oldest character of a person, [(another character of that person, similarity), ...])]."""
    characters = Character.objects.filter(embedding_model=model).order_by("created_at").select_related("owner")
    if owner:
        characters = characters.filter(owner__username=owner)
    groups: dict = {}
    joined: dict = {}  # a character's id -> the oldest character of its person
    for character in characters:
        if character.pk in joined:
            continue
        groups[character.pk] = (character, [])
        for other in nearest_characters(character.owner, character.embedding, k=10, embedding_model=model):
            similarity = 1 - other.distance
            newer = other.pk != character.pk and other.created_at >= character.created_at
            if newer and other.pk not in joined and similarity >= threshold:
                joined[other.pk] = character.pk
                groups[character.pk][1].append((other, similarity))
    return [group for group in groups.values() if group[1]]
