import factory
from django.contrib.auth import get_user_model

from nodes.models import Node
from projects.models import Membership, Project

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Film {n}")

    @factory.post_generation
    def owner_membership(project, create, extracted, **kwargs):
        if create:
            Membership.objects.create(project=project, user=project.owner, role=Membership.Role.OWNER)


class NodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Node

    project = factory.SubFactory(ProjectFactory)
    type = "prompt"
    params = factory.LazyAttribute(lambda node: {"text": "A lighthouse at dawn, slow dolly in"})
