"""Sign-in with Kakao (web/kakao.py) and sign-out, for the share pages."""

from __future__ import annotations

import logging

from django.contrib.auth import login, logout
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.kakao import KakaoLoginFailed
from funsun.api.errors import DomainError
from web import kakao
from web.security import web_page
from web.throttles import allowed

logger = logging.getLogger(__name__)


def safe_next(value: str | None) -> str:
    """A page of this site to go back to; anything else (another site) is home."""
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return value
    return "/"


def message_page(request, status: int, title: str, text: str, next_path: str = ""):
    context = {"title": title, "text": text, "next_path": next_path}
    return render(request, "web/message.html", context, status=status)


@require_GET
@web_page
def kakao_start(request):
    if not kakao.is_configured():
        return message_page(
            request, 503, _("로그인할 수 없어요"), _("카카오 로그인이 설정되지 않았습니다.")
        )
    if not allowed(request, "kakaologin"):
        return message_page(
            request, 429, _("잠시 후 다시 시도해 주세요"), _("로그인 시도가 너무 많습니다.")
        )
    return HttpResponseRedirect(
        kakao.authorize_url(request.session, safe_next(request.GET.get("next")))
    )


@require_GET
@web_page
def kakao_callback(request):
    next_path = kakao.take_state(request.session, request.GET.get("state", ""))
    if next_path is None:
        logger.warning("kakao web sign-in: state missing or not this session's")
        return message_page(
            request,
            400,
            _("로그인하지 못했어요"),
            _("로그인 요청이 만료되었거나 올바르지 않습니다. 다시 시도해 주세요."),
        )
    code = request.GET.get("code", "")
    if not code:  # the user declined, or Kakao reports an error
        return message_page(
            request, 400, _("로그인하지 못했어요"), _("카카오 로그인이 취소되었습니다."), next_path
        )
    if not allowed(request, "kakaologin"):
        return message_page(
            request, 429, _("잠시 후 다시 시도해 주세요"), _("로그인 시도가 너무 많습니다.")
        )
    try:
        account = kakao.sign_in_with_code(code)
    except (KakaoLoginFailed, DomainError) as exc:
        logger.info("kakao web sign-in refused: %s", exc.detail)
        return message_page(
            request,
            400,
            _("로그인하지 못했어요"),
            _("카카오 로그인에 실패했습니다. 다시 시도해 주세요."),
            next_path,
        )
    # A new session key: a session id planted before the sign-in is worthless after it.
    login(request, account, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect(next_path)


@require_POST
@web_page
def sign_out(request):
    logout(request)
    return HttpResponseRedirect(safe_next(request.POST.get("next")))
