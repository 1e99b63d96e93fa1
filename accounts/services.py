"""Everything that writes accounts, their tokens and their follows.

Each service owns its transaction and raises domain errors (funsun.api.errors) that the
exception handler turns into `{"detail": ...}` with the right status.
"""

import logging
from typing import Final

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from rest_framework_simplejwt import settings as simplejwt_settings
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.cache import forget_accounts
from accounts.errors import AccountDeactivated, EmailTaken, NotAuthenticated
from accounts.kakao import KakaoUser, fetch_kakao_user
from accounts.models import Account, Follow
from accounts.selectors import get_active_account
from accounts.signals import account_deactivating, followed
from funsun.api.errors import InvalidInput, NotFound
from funsun.images import clean_image, delete_stored

logger = logging.getLogger(__name__)


def _jwt():
    # Looked up on each use: simplejwt rebuilds its settings object when SIMPLE_JWT changes.
    return simplejwt_settings.api_settings


DEACTIVATED_USERNAME: Final = "탈퇴한 사용자"
ALREADY_FOLLOW: Final = "already follow"


class _Keep:
    """Marks a profile field the caller did not send (distinct from None, which clears)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


# --- Sign-in ------------------------------------------------------------------------------


def issue_tokens(*, account: Account) -> dict[str, str]:
    """A fresh refresh token (recorded as outstanding, so it can be revoked) and its access."""
    refresh = RefreshToken.for_user(account)
    return {"access_token": str(refresh.access_token), "refresh_token": str(refresh)}


def _ensure_active(account: Account) -> None:
    if not account.is_active:
        raise AccountDeactivated()


def kakao_login(*, access_token: str) -> tuple[Account, bool]:
    """Find or create the account of a Kakao user; `created` is True on the first login.

    Kakao is asked before any transaction starts, so a slow Kakao holds no database lock.
    Profile fields are copied from Kakao only when the account is created: afterwards the
    user's own edits win.
    """
    kakao_user = fetch_kakao_user(access_token)
    account = Account.objects.filter(pk=kakao_user.id).first()
    created = False
    if account is None:
        account, created = _create_kakao_account(kakao_user)
    _ensure_active(account)
    return account, created


def _create_kakao_account(kakao_user: KakaoUser) -> tuple[Account, bool]:
    email = kakao_user.email
    if email and Account.objects.filter(email__iexact=email).exists():
        # The address already belongs to another account (e.g. an email sign-up): the Kakao
        # account is created without it rather than failing the login.
        email = None
    while True:
        try:
            with transaction.atomic():
                account = Account.objects.create_user(
                    id=kakao_user.id,
                    email=email,
                    password=None,
                    username=kakao_user.nickname,
                    gender=kakao_user.gender,
                    age_range=kakao_user.age_range,
                    birthday=kakao_user.birthday,
                    birthday_type=kakao_user.birthday_type,
                )
            logger.info("account %s created from Kakao login", account.pk)
            return account, True
        except IntegrityError:
            # Two first logins of the same Kakao user raced: the other one created it.
            existing = Account.objects.filter(pk=kakao_user.id).first()
            if existing is not None:
                return existing, False
            if email is None:
                raise
            # The email was taken in between; keep the account, drop the address.
            email = None


def sign_up(*, email: str, password: str, username: str) -> Account:
    """A local (email + password) account. The password is already validated."""
    email = email.strip().lower()
    if Account.objects.filter(email__iexact=email).exists():
        raise EmailTaken
    try:
        with transaction.atomic():
            account = Account.objects.create_user(email=email, password=password, username=username)
    except IntegrityError as exc:
        raise EmailTaken from exc
    logger.info("account %s signed up", account.pk)
    return account


def log_in(*, email: str, password: str) -> Account:
    """The account with these credentials, 401 otherwise, 403 when it is deactivated."""
    # Every path that stores an email lowercases it, so the unique index answers this.
    account = Account.objects.filter(email=email.strip().lower()).first()
    if account is None:
        # Hash anyway so that an unknown email takes as long as a wrong password.
        Account().set_password(password)
        raise NotAuthenticated("Wrong email or password.")
    if not account.check_password(password):
        raise NotAuthenticated("Wrong email or password.")
    _ensure_active(account)
    return account


def refresh_tokens(*, refresh: str) -> dict[str, str]:
    """A new access token (and, with rotation, a new refresh token) for a refresh token.

    A refresh token is single use when rotation is on: the old one is blacklisted in the
    same transaction that issues the new one, with its outstanding row locked, so two
    concurrent refreshes with the same token cannot both succeed.
    """
    try:
        token = RefreshToken(refresh)  # signature, expiry, type and blacklist
    except TokenError as exc:
        raise NotAuthenticated("Refresh token is invalid, expired or revoked.") from exc
    account_id = token.payload.get(_jwt().USER_ID_CLAIM)
    account = Account.objects.filter(pk=str(account_id)).first() if account_id else None
    if account is None or not account.is_active:
        raise NotAuthenticated("No active account found for the given token.")

    with transaction.atomic():
        jti = token[_jwt().JTI_CLAIM]
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=jti).first()
        if outstanding is not None and BlacklistedToken.objects.filter(token=outstanding).exists():
            raise NotAuthenticated("Refresh token is invalid, expired or revoked.")
        data = {"access_token": str(token.access_token)}
        if _jwt().ROTATE_REFRESH_TOKENS:
            if _jwt().BLACKLIST_AFTER_ROTATION:
                token.blacklist()
            token.set_jti()
            token.set_exp()
            token.set_iat()
            token.outstand()
            data["refresh_token"] = str(token)
    return data


def log_out(*, account: Account, refresh: str) -> None:
    """Revoke one refresh token of `account`. Revoking a revoked token again is harmless."""
    try:
        # Verify signature and expiry only: a token blacklisted already still logs out.
        payload = token_backend.decode(refresh, verify=True)
    except TokenBackendError as exc:
        raise InvalidInput("refresh: invalid or expired refresh token.") from exc
    if payload.get(_jwt().TOKEN_TYPE_CLAIM) != "refresh" or not payload.get(_jwt().JTI_CLAIM):
        raise InvalidInput("refresh: not a refresh token.")
    if str(payload.get(_jwt().USER_ID_CLAIM)) != account.pk:
        raise InvalidInput("refresh: this refresh token belongs to another account.")
    with transaction.atomic():
        RefreshToken(refresh, verify=False).blacklist()


def _revoke_all_refresh_tokens(account: Account) -> int:
    open_tokens = OutstandingToken.objects.filter(user=account, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=token) for token in open_tokens]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- Profile ------------------------------------------------------------------------------


def update_profile(
    *,
    account: Account,
    username: str | _Keep = KEEP,
    birthday: str | _Keep | None = KEEP,
    birthday_type: str | _Keep = KEEP,
    bank_account: str | _Keep | None = KEEP,
    image: UploadedFile | None = None,
    delete_image: bool = False,
) -> Account:
    """Change the editable parts of a profile; values are already validated.

    `None` clears birthday / bank_account, KEEP leaves a field alone. A new `image`
    replaces the old one (which wins over `delete_image`). The old file is deleted only
    after the change committed; the new file is deleted again if the change fails.
    """
    new_file = clean_image(image) if image is not None else None  # 400/413 before any write
    stored_name: str | None = None
    try:
        with transaction.atomic():
            locked = Account.objects.select_for_update().get(pk=account.pk)
            changed: list[str] = []
            for field, value in (
                ("username", username),
                ("birthday", birthday),
                ("birthday_type", birthday_type),
                ("bank_account", bank_account),
            ):
                if value is not KEEP:
                    setattr(locked, field, value)
                    changed.append(field)
            old_image = locked.image.name if locked.image else None
            if new_file is not None:
                locked.image.save(new_file.name, new_file, save=False)
                stored_name = locked.image.name
                changed.append("image")
            elif delete_image and old_image:
                locked.image = None
                changed.append("image")
            if changed:
                locked.save(update_fields=changed)
            if "image" in changed and old_image:
                transaction.on_commit(lambda: delete_stored(old_image))
    except BaseException:
        delete_stored(stored_name)
        raise
    return locked


# --- Deactivation -------------------------------------------------------------------------


def deactivate_account(*, account: Account) -> None:
    """Deactivate `account` and erase its personal data (docs/PRODUCT.md "Accounts").

    One transaction: `account_deactivating` lets the apps above cancel what the account has
    open (fundings: cancel, take the contributions back, decide the refunds), its follows
    are deleted both ways with the other side's counters kept exact, all its refresh tokens
    are revoked (its access tokens stop working because simplejwt refuses inactive
    accounts). All of it commits together or none of it does; the refunds themselves go out
    as background jobs after the commit. Financial rows are left alone. Idempotent.
    """
    with transaction.atomic():
        if not Account.objects.filter(pk=account.pk, is_active=True).exists():
            return
        # First, before any account row is locked: the receivers lock fundings, and a
        # contribution being credited holds its funding's lock while its insert waits for a
        # share lock on the contributor's account (the author may be that contributor).
        account_deactivating.send(sender=Account, account=account)
        locked = Account.objects.select_for_update().get(pk=account.pk)
        if not locked.is_active:
            return  # deactivated meanwhile: the other call did (and committed) it all
        outgoing = list(
            Follow.objects.select_for_update()
            .filter(follower=locked)
            .values_list("id", "followee_id")
        )
        incoming = list(
            Follow.objects.select_for_update()
            .filter(followee=locked)
            .values_list("id", "follower_id")
        )
        followee_ids = [other for _, other in outgoing]
        follower_ids = [other for _, other in incoming]
        # Lock the other accounts in primary-key order, as the follow services do, so a
        # concurrent follow cannot deadlock with this.
        list(
            Account.objects.select_for_update()
            .filter(pk__in={*followee_ids, *follower_ids})
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Follow.objects.filter(id__in=[fid for fid, _ in outgoing + incoming]).delete()
        # Each id appears at most once per list (one follow per pair), so -1 is exact.
        Account.objects.filter(pk__in=followee_ids).update(follower_count=F("follower_count") - 1)
        Account.objects.filter(pk__in=follower_ids).update(followee_count=F("followee_count") - 1)
        forget_accounts(*followee_ids, *follower_ids)

        old_image = locked.image.name if locked.image else None
        locked.is_active = False
        locked.deactivated_on = timezone.now()
        locked.email = None
        locked.username = DEACTIVATED_USERNAME
        locked.birthday = None
        locked.bank_account = None
        locked.gender = None
        locked.age_range = None
        locked.image = None
        locked.follower_count = 0
        locked.followee_count = 0
        locked.set_unusable_password()
        locked.save()
        revoked = _revoke_all_refresh_tokens(locked)
        transaction.on_commit(lambda: delete_stored(old_image))
    logger.info("account %s deactivated, %d refresh tokens revoked", account.pk, revoked)


# --- Follows ------------------------------------------------------------------------------


def _adjust_follow_counters(
    *, follower_id: str, followee_id: str, delta: int, require_active: bool
) -> None:
    # Rows are updated in primary-key order: A->B and B->A at the same moment then lock
    # the same row first and cannot deadlock.
    for pk, field in sorted([(follower_id, "followee_count"), (followee_id, "follower_count")]):
        rows = Account.objects.filter(pk=pk)
        if require_active:
            # Re-checked under the row lock: a follow racing a deactivation rolls back.
            rows = rows.filter(is_active=True)
        if rows.update(**{field: F(field) + delta}) != 1:
            raise NotFound("No such account.")
        forget_accounts(pk)


def refresh_friendship(a_id: str, b_id: str) -> None:
    """Set `mutual` on the follows between accounts a and b (either way) to whether each
    follows the other, in one statement. Run it under both accounts' row locks (the counters
    take them): a follow back made at the same moment then commits before this statement
    reads (and is seen) or waits until this transaction commits (and sees it)."""
    pair = Follow.objects.filter(
        Q(follower_id=a_id, followee_id=b_id) | Q(follower_id=b_id, followee_id=a_id)
    )
    back = Follow.objects.filter(follower=OuterRef("followee"), followee=OuterRef("follower"))
    pair.update(mutual=Exists(back))


def follow(*, follower: Account, followee_id: str) -> None:
    """`follower` follows `followee_id`; 400 for yourself or a second time, 404 unknown."""
    followee_id = str(followee_id)
    if followee_id == follower.pk:
        raise InvalidInput("You cannot follow yourself.")
    followee = get_active_account(followee_id)
    try:
        # No "exists?" pre-check: the unique constraint decides, so a concurrent duplicate
        # is refused exactly like a sequential one, with the counters untouched.
        with transaction.atomic():
            Follow.objects.create(follower=follower, followee=followee)
            _adjust_follow_counters(
                follower_id=follower.pk, followee_id=followee.pk, delta=1, require_active=True
            )
            refresh_friendship(follower.pk, followee.pk)
            followed.send(Follow, follower_id=follower.pk, followee_id=followee.pk)
    except IntegrityError as exc:
        raise InvalidInput(ALREADY_FOLLOW) from exc


def unfollow(*, follower: Account, followee_id: str) -> bool:
    """`follower` stops following `followee_id`; True if a follow was removed."""
    with transaction.atomic():
        deleted, _ = Follow.objects.filter(follower=follower, followee_id=str(followee_id)).delete()
        if deleted:
            _adjust_follow_counters(
                follower_id=follower.pk,
                followee_id=str(followee_id),
                delta=-1,
                require_active=False,
            )
            refresh_friendship(follower.pk, str(followee_id))
    return bool(deleted)
