"""factory_boy factories shared by every app's tests."""

import io
import uuid
from datetime import timedelta

import factory
from django.db.models import F
from django.utils import timezone
from PIL import Image

from accounts.models import Account, Follow
from fundings.models import Contribution, Funding
from payments.models import Payment, PaymentState

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
    """Raw follow rows (no counter upkeep); tests of the follow API go through HTTP."""

    class Meta:
        model = Follow

    follower = factory.SubFactory(AccountFactory)
    followee = factory.SubFactory(AccountFactory)


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
    funding: Funding,
    contributor: Account | None = None,
    amount: int = 10_000,
    *,
    message: str = "Happy birthday!",
    created_on=None,
    refunded: bool = False,
) -> Contribution:
    """A contribution as the money services leave it: backed by a credited sandbox payment
    (a refunded one: refunded payment, refunded contribution), `current_amount` raised by a
    credited one (in the database and on `funding`)."""
    contributor = contributor or AccountFactory()
    when = created_on or timezone.now()
    payment = Payment.objects.create(
        payer=contributor,
        amount=amount,
        funding=funding,
        message=message,
        provider="sandbox",
        partner_order_id=f"test-{uuid.uuid4().hex}",
        tid=f"T{uuid.uuid4().hex[:18]}",
        state=PaymentState.REFUNDED if refunded else PaymentState.CREDITED,
        approved_on=when,
        refunded_amount=amount if refunded else 0,
        refunded_on=when if refunded else None,
    )
    contribution = Contribution.objects.create(
        funding=funding,
        contributor=contributor,
        amount=amount,
        message=message,
        payment=payment,
        created_on=when,
        refunded_on=when if refunded else None,
    )
    if not refunded:
        Funding.objects.filter(pk=funding.pk).update(current_amount=F("current_amount") + amount)
        funding.refresh_from_db(fields=["current_amount"])
    return contribution


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 8), **save) -> bytes:
    """A real, decodable image of the given format."""
    out = io.BytesIO()
    mode = "RGB" if fmt in ("JPEG", "WEBP") else "RGBA" if fmt == "PNG" else "P"
    Image.new(mode, size).save(out, format=fmt, **save)
    return out.getvalue()
