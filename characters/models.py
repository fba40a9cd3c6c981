import uuid

from django.conf import settings
from django.db import models
from pgvector.django import HalfVectorField, HnswIndex

from assets.models import Asset
from projects.models import Project

EMBEDDING_DIMENSIONS = 512
# Face models that recognise the same photo again, not the same person in another photo.
APPROXIMATE_MODELS = frozenset({"local:opencv-haar-frontalface"})


class CharacterQuerySet(models.QuerySet):
    def library_of(self, owner) -> "CharacterQuerySet":
        """The owner's characters as they see them: not those a moderator hid."""
        return (
            self.filter(owner=owner, hidden_at__isnull=True)
            .select_related("source_asset", "face_asset")
            .prefetch_related("reference_assets")
        )


class Character(models.Model):
    """A person found in uploaded faces; the embedding is what makes two uploads the same person."""

    class Sex(models.TextChoices):
        FEMALE = "F"
        MALE = "M"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="characters")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="characters")
    name = models.CharField(max_length=120)
    # Half precision (2 bytes a number, about 3 significant digits): far finer than any face model's
    # "same person" margin, and half the bytes an exact scan or the HNSW index reads (docs/BENCHMARKS.md).
    embedding = HalfVectorField(dimensions=EMBEDDING_DIMENSIONS)
    # Embeddings of different face models are not comparable: matching stays within one model.
    embedding_model = models.CharField(max_length=100, default="", blank=True)
    det_score = models.FloatField(default=0)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    source_asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="source_of_characters"
    )
    # The face cropped from the source photo with a margin: what chips and the library show (made once).
    face_asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reference_assets = models.ManyToManyField(Asset, blank=True, related_name="reference_of_characters")
    # Hidden by a moderator: gone from its owner's library and canvases, its face no longer served.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CharacterQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # How large an owner's library is for one model, read from the index alone: it chooses
            # between an exact scan and the HNSW index (characters.services.nearest_characters).
            models.Index(fields=["owner", "embedding_model"], name="character_owner_model"),
            HnswIndex(
                name="character_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["halfvec_cosine_ops"],
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def face_picture(self) -> Asset | None:
        """The face crop, or the whole photo for characters made before crops existed."""
        return self.face_asset or self.source_asset

    @property
    def approximate(self) -> bool:
        """Made by the Haar fallback, which recognises the same photo, not the same person."""
        return self.embedding_model in APPROXIMATE_MODELS
