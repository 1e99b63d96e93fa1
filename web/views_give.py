"""Giving from the browser: the form on the share page, the way to the provider's checkout
and back, and the thank-you page. The money is the fundings services' (fundings/web_gifts.py):
the same checks, crediting and refunds as the app's POST /remit/kakaopay/ready and /remit/."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fundings import web_gifts
from fundings.errors import FundingClosed
from fundings.serializers.remit import RemitCreateSerializer
from funsun.api.errors import DomainError, NotFound
from web import pages
from web.security import web_page
from web.throttles import allowed
from web.views_account import message_page

logger = logging.getLogger(__name__)

# The payment this browser is paying right now, and the gift its thank-you page shows.
PAYING_KEY = "web_paying"
THANKED_KEY = "web_thanked"


def _amount(post) -> str:
    """The free amount when one was typed, else the quick pick."""
    typed = post.get("amount_other", "").replace(",", "").strip()
    return typed or post.get("amount", "")


def _checkout_url(request, result) -> str:
    mobile = "Mobi" in request.META.get("HTTP_USER_AGENT", "")
    return result.next_redirect_mobile_url if mobile else result.next_redirect_pc_url


@require_POST
@web_page
def give(request, funding_id: int):
    if not request.user.is_authenticated:
        # Back to the funding's page once signed in (the form is there, not here).
        query = urlencode({"next": pages.share_path(funding_id)})
        return HttpResponseRedirect(f"/web/login/kakao?{query}")
    serializer = RemitCreateSerializer(
        data={
            "funding": funding_id,
            "amount": _amount(request.POST),
            "message": request.POST.get("message", "").strip(),
        }
    )
    back = pages.share_path(funding_id)
    if not serializer.is_valid():
        errors = serializer.errors
        text = (
            _("금액은 1,000원부터 1,000,000원까지 보낼 수 있어요.")
            if "amount" in errors
            else _("메시지를 1~255자로 적어 주세요.")
        )
        return message_page(request, 400, _("다시 확인해 주세요"), text, back)
    if not allowed(request, "payment_ready", per_account=True):
        return message_page(
            request, 429, _("잠시 후 다시 시도해 주세요"), _("결제 요청이 너무 많습니다."), back
        )
    data = serializer.validated_data
    try:
        payment, result = web_gifts.start_web_gift(
            payer=request.user,
            funding_id=funding_id,
            amount=data["amount"],
            message=data["message"],
        )
    except NotFound:
        return message_page(request, 404, _("펀딩을 찾을 수 없어요"), "", back)
    except FundingClosed:
        return message_page(
            request,
            409,
            _("이 금액을 보낼 수 없어요"),
            _("펀딩이 마감되었거나 남은 금액보다 많습니다."),
            back,
        )
    except DomainError as exc:
        logger.warning("web gift: the payment could not start: %s", exc.detail)
        return message_page(
            request, 502, _("결제를 시작하지 못했어요"), _("잠시 후 다시 시도해 주세요."), back
        )
    request.session[PAYING_KEY] = payment.pk
    return HttpResponseRedirect(_checkout_url(request, result))


@require_GET
@login_required(login_url="/web/login/kakao")
@web_page
def payment_return(request):
    """Where the provider's approval redirect lands for a web payment (web.middleware)."""
    payment_id = request.session.get(PAYING_KEY)
    gift = web_gifts.web_gift(payer=request.user, payment_id=payment_id) if payment_id else None
    if gift is None:
        return message_page(request, 404, _("결제를 찾을 수 없어요"), "")
    back = pages.share_path(gift.funding_id)
    try:
        web_gifts.finish_web_gift(gift=gift, pg_token=request.GET.get("pg_token", "")[:100])
    except FundingClosed:
        request.session.pop(PAYING_KEY, None)
        return message_page(
            request,
            409,
            _("선물이 전달되지 않았어요"),
            _("그사이 펀딩이 마감되었거나 남은 금액보다 많아 결제를 환불했어요."),
            back,
        )
    except DomainError as exc:
        logger.info("web gift of payment %s not approved: %s", gift.payment_id, exc.detail)
        return message_page(
            request, 400, _("결제가 승인되지 않았어요"), _("다시 시도해 주세요."), back
        )
    contribution = web_gifts.contribution_of(gift)
    if contribution is None:
        return message_page(
            request, 409, _("결제를 확인하고 있어요"), _("잠시 후 다시 확인해 주세요."), back
        )
    request.session.pop(PAYING_KEY, None)
    request.session[THANKED_KEY] = {"funding": gift.funding_id, "amount": contribution.amount}
    return HttpResponseRedirect(f"{back}thanks")


@require_GET
@web_page
def payment_stopped(request):
    """The buyer canceled at the checkout, or the payment failed: back to the funding."""
    payment_id = request.session.pop(PAYING_KEY, None)
    gift = (
        web_gifts.web_gift(payer=request.user, payment_id=payment_id)
        if payment_id and request.user.is_authenticated
        else None
    )
    back = pages.share_path(gift.funding_id) if gift else "/"
    return message_page(request, 200, _("결제가 취소되었어요"), _("결제되지 않았습니다."), back)


@require_GET
@login_required(login_url="/web/login/kakao")
@web_page
def thanks(request, funding_id: int):
    thanked = request.session.get(THANKED_KEY) or {}
    page = pages.share_page(viewer=request.user, funding_id=funding_id)
    if page.funding is None or thanked.get("funding") != funding_id:
        return HttpResponseRedirect(pages.share_path(funding_id))
    funding = page.funding
    context = {
        "funding": funding,
        "amount": thanked["amount"],
        "percent": pages.percent(funding),
        "status_text": pages.status_text(funding),
        "share_url": pages.absolute(pages.share_path(funding_id)),
    }
    return render(request, "web/thanks.html", context)
