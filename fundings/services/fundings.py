"""Writes to fundings that are not money: create, edit, review, delete.

`current_amount` and `state` belong to the money services (fundings.services.contributions);
nothing here reads them to decide a write, and every update names its columns so that a
concurrent credit or refund is never overwritten by a stale copy of the row.
"""

import logging
from datetime import datetime

from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from fundings.errors import NotTheAuthor
from fundings.models import Contribution, Funding
from fundings.services.contributions import cancel_funding
from fundings.signals import funding_opened, review_posted
from funsun.api.errors import NotFound
from funsun.images import delete_stored

logger = logging.getLogger(__name__)

IMAGE_FIELDS = ("image", "review_image")


def ensure_author(*, funding: Funding, actor: Account) -> None:
    """Only the author edits or deletes a funding (others who can see it get 403)."""
    if funding.author_id != actor.pk:
        raise NotTheAuthor


def _store(field_name: str, instance: Funding, content: File) -> str:
    """Write an already validated image under a fresh random name; return the stored name."""
    field = Funding._meta.get_field(field_name)
    name = field.generate_filename(instance, content.name)
    return field.storage.save(name, content, max_length=field.max_length)


def _delete_after_commit(names: list[str]) -> None:
    """Old files go only once the rows no longer point at them."""
    names = [name for name in names if name]
    if names:
        transaction.on_commit(lambda: [delete_stored(name) for name in names])


def create_funding(
    *,
    author: Account,
    title: str,
    content: str,
    goal_amount: int,
    public: bool,
    expire_on: datetime,
    image: File | None = None,
) -> Funding:
    funding = Funding(
        author=author,
        title=title,
        content=content,
        goal_amount=goal_amount,
        public=public,
        expire_on=expire_on,
    )
    stored = None
    try:
        if image is not None:
            stored = _store("image", funding, image)
            funding.image = stored
        with transaction.atomic():
            funding.save()
            funding_opened.send(Funding, funding_id=funding.pk)
    except Exception:
        # The row was not written: its file must not stay behind.
        delete_stored(stored)
        raise
    logger.info("funding %s created by %s", funding.pk, author.pk)
    return funding


def update_funding(
    *,
    funding: Funding,
    actor: Account,
    title: str | None = None,
    content: str | None = None,
    public: bool | None = None,
    image: File | None = None,
    delete_image: bool = False,
    review: str | None = None,
    review_image: File | None = None,
    delete_review_image: bool = False,
) -> Funding:
    """Change what the author may change; None (or False for the delete flags) keeps a value.

    A new image replaces the old one (whose file is deleted after commit); goal, expiry,
    amounts, author and state are not parameters, so they cannot change here.
    """
    ensure_author(funding=funding, actor=actor)
    changes: dict = {}
    for name, value in (("title", title), ("content", content), ("public", public)):
        if value is not None:
            changes[name] = value
    if review is not None:
        changes["review"] = review
    stored: list[str] = []
    try:
        for field_name, upload, delete in (
            ("image", image, delete_image),
            ("review_image", review_image, delete_review_image),
        ):
            if upload is not None:
                changes[field_name] = _store(field_name, funding, upload)
                stored.append(changes[field_name])
            elif delete:
                changes[field_name] = None
        if changes:
            with transaction.atomic():
                # Lock and read the current file names: another edit may have replaced them.
                try:
                    current = (
                        Funding.objects.select_for_update().only(*IMAGE_FIELDS).get(pk=funding.pk)
                    )
                except Funding.DoesNotExist as exc:
                    raise NotFound("Funding not found.") from exc
                replaced = [getattr(current, name).name for name in IMAGE_FIELDS if name in changes]
                Funding.objects.filter(pk=funding.pk).update(**changes, updated_on=timezone.now())
                _delete_after_commit(replaced)
                if changes.get("review"):
                    review_posted.send(Funding, funding_id=funding.pk)
    except Exception:
        for name in stored:
            delete_stored(name)
        raise
    return Funding.objects.select_related("author").get(pk=funding.pk)


def post_review(
    *,
    funding: Funding,
    actor: Account,
    review: str,
    review_image: File | None = None,
    delete_review_image: bool = False,
) -> Funding:
    """The author's thank-you note (and picture) on their funding."""
    return update_funding(
        funding=funding,
        actor=actor,
        review=review,
        review_image=review_image,
        delete_review_image=delete_review_image,
    )


def delete_funding(*, funding: Funding, actor: Account) -> str:
    """Delete a funding nobody gave money to; otherwise cancel it (and refund) instead.

    Any contribution row, even a refunded one, is a financial record that is never deleted
    (docs/MONEY.md, money invariant 6) and it protects its funding row: such a funding is
    canceled by the money service, never removed. Returns "deleted" or "canceled".
    """
    ensure_author(funding=funding, actor=actor)
    if not Contribution.objects.filter(funding_id=funding.pk).exists():
        with transaction.atomic():
            try:
                locked = Funding.objects.select_for_update().get(pk=funding.pk)
            except Funding.DoesNotExist as exc:
                raise NotFound("Funding not found.") from exc
            # Checked again under the lock: a contribution may have been credited meanwhile.
            if not Contribution.objects.filter(funding_id=funding.pk).exists():
                files = [getattr(locked, name).name for name in IMAGE_FIELDS]
                locked.delete()
                _delete_after_commit(files)
                logger.info("funding %s deleted by %s", funding.pk, actor.pk)
                return "deleted"
    # Outside any lock of ours: cancelling refunds through the payment provider.
    cancel_funding(funding=funding)
    logger.info("funding %s canceled by %s", funding.pk, actor.pk)
    return "canceled"
