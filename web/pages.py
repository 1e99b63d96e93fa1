"""What the share page shows of a funding, decided once for the page, its tags and its card.

Who sees a funding is fundings.selectors.visible_fundings, nothing else: the page asks it for
the signed-in visitor, the preview (tags and image, fetched by other sites' crawlers and
copied into chats) asks it for nobody, so that only a public funding ever has a preview.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from fundings.models import Funding, FundingStatus
from fundings.selectors import may_see, visible_fundings
from fundings.selectors.contributions import contributions_of_seen

CONTRIBUTIONS_SHOWN = 50


def share_path(funding_id: int) -> str:
    return f"/f/{funding_id}/"


def absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def status_text(funding: Funding) -> str:
    status = funding.status
    if status == FundingStatus.OPEN:
        days = (funding.expire_on - timezone.now()).days
        return _("오늘 마감") if days < 1 else _("%(days)d일 남음") % {"days": days}
    return {
        FundingStatus.ACHIEVED: _("목표 달성"),
        FundingStatus.EXPIRED: _("기간 종료"),
        FundingStatus.CANCELED: _("취소됨"),
        FundingStatus.PAID_OUT: _("전달 완료"),
    }[status]


def percent(funding: Funding) -> int:
    return min(100, funding.current_amount * 100 // funding.goal_amount)


@dataclass
class SharePage:
    """`funding` is None when the visitor may not see it; `notice` says why in that case
    (or that it was canceled), without any of its content."""

    funding: Funding | None
    notice: str
    status_code: int
    contributions: list
    previewable: bool  # the preview tags may describe it (visible to anybody)


def share_page(*, viewer, funding_id: int) -> SharePage:
    funding = visible_fundings(viewer).select_related("author").filter(pk=funding_id).first()
    if funding is None:
        hidden = Funding.objects.filter(pk=funding_id, is_hidden=True).exists()
        if hidden:
            return SharePage(None, _("운영 정책에 따라 숨겨진 펀딩입니다."), 410, [], False)
        return SharePage(
            None,
            _("펀딩을 찾을 수 없어요. 친구에게만 공개된 펀딩이라면 로그인해 주세요."),
            404,
            [],
            False,
        )
    if funding.status == FundingStatus.CANCELED:
        return SharePage(None, _("취소된 펀딩입니다."), 410, [], False)
    contributions = contributions_of_seen(funding, limit=CONTRIBUTIONS_SHOWN, offset=0)
    viewer_id = viewer.pk if viewer is not None and viewer.is_authenticated else None
    for contribution in contributions:
        contribution.amount_visible = viewer_id is not None and viewer_id in (
            contribution.contributor_id,
            funding.author_id,
        )
    # The preview is what anybody may see: asked of the row already read, without a query.
    return SharePage(funding, "", 200, contributions, may_see(None, funding))


def public_funding(funding_id: int) -> Funding | None:
    """The funding a preview may describe: visible to anybody, not canceled."""
    funding = visible_fundings(None).filter(pk=funding_id).first()
    if funding is None or funding.status == FundingStatus.CANCELED:
        return None
    return funding
