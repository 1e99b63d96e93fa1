"""factory_boy factories shared by every app's tests.

Rows with money (payments, contributions) come from demo.builders, the same functions that
build the demo data, so that test data and demo data are made alike.
"""

import io
from datetime import timedelta

import factory
from django.utils import timezone
from PIL import Image

from accounts.models import Account, Follow
from accounts.services import refresh_friendship
from demo import builders
from fundings.models import Contribution, Funding

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    id = factory.Sequence(lambda n: str(3_000_000_000 + n))
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class FollowFactory(factory.django.DjangoModelFactory):
    """Follow rows without the counters' upkeep (tests of the follow API go through HTTP);
    `mutual` is kept as the follow service keeps it, since visibility reads it."""

    class Meta:
        model = Follow

    follower = factory.SubFactory(AccountFactory)
    followee = factory.SubFactory(AccountFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        row = super()._create(model_class, *args, **kwargs)
        refresh_friendship(row.follower_id, row.followee_id)
        row.refresh_from_db(fields=["mutual"])
        return row


class FundingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Funding

    author = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Gift {n}")
    content = "A gift I really want."
    goal_amount = 100_000
    public = True
    expire_on = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


def credited_contribution(
    funding: Funding, contributor: Account | None = None, amount: int = 10_000, **options
) -> Contribution:
    """demo.builders.credited_contribution, with a new contributor when none is given: a
    contribution backed by a credited (or, `refunded=True`, refunded) sandbox payment."""
    return builders.credited_contribution(
        funding, contributor or AccountFactory(), amount, **options
    )


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 8), **save) -> bytes:
    """A real, decodable image of the given format."""
    out = io.BytesIO()
    mode = "RGB" if fmt in ("JPEG", "WEBP") else "RGBA" if fmt == "PNG" else "P"
    Image.new(mode, size).save(out, format=fmt, **save)
    return out.getvalue()
