"""A funding's share page in a real browser: a friend without the app opens the link, reads
its preview, signs in with Kakao (a local server speaking Kakao's OAuth), gives 10,000 KRW
through the sandbox and sees the thank-you page; then two people give the last 10,000 KRW
at once."""

import io

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from accounts.tests.kakao_oauth_server import KakaoOAuthServer, configure
from payments.models import Payment, PaymentState
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.factories import AccountFactory, FundingFactory, credited_contribution

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture
def kakao_oauth(settings, site, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = KakaoOAuthServer().start()
    configure(settings, server)
    settings.PAYMENT_PROVIDER = "sandbox"
    yield server
    server.stop()


def gift_picture() -> bytes:
    """A gift's photo: a warm gradient, enough to see the image on the page and the card."""
    picture = Image.new("RGB", (600, 600))
    for y in range(600):
        for x in range(0, 600, 4):
            picture.paste((255, 140 + y // 8, 60 + x // 6), (x, y, x + 4, y + 1))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=80)
    return out.getvalue()


@pytest.mark.parametrize("size", list(SIZES))
def test_a_friend_opens_the_link_signs_in_and_gives(kakao_oauth, open_page, http, site, size):
    width, height = SIZES[size]
    author = AccountFactory(username="민지")
    funding = FundingFactory(
        author=author,
        title="엄마 생신 선물: 안마의자",
        content="엄마가 늘 허리가 아프다고 하셔서 안마의자를 선물하고 싶어요.",
        goal_amount=300_000,
    )
    funding.image.save("gift.jpg", ContentFile(gift_picture()))
    credited_contribution(funding, AccountFactory(username="지훈"), 50_000, message="힘내!")
    shot = f"share-{size}"

    with open_page(width, height) as page:
        page.set_extra_http_headers({"Accept-Language": "ko-KR,ko;q=0.9"})
        violations: list[str] = []
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        # 1. The link, signed out: the funding and its preview tags.
        page.goto(f"/f/{funding.pk}/")
        expect(page.locator("h1")).to_have_text("엄마 생신 선물: 안마의자")
        expect(page.locator("#current")).to_have_text("50,000원")
        page.screenshot(path=ARTIFACTS / f"{shot}-1-signed-out.png", full_page=True)
        tags = page.eval_on_selector_all(
            "meta[property], meta[name]",
            "els => Object.fromEntries(els.map(e => "
            "[e.getAttribute('property') || e.getAttribute('name'), e.content]))",
        )
        assert tags["og:title"] == "엄마 생신 선물: 안마의자"
        assert tags["og:url"] == f"{site}/f/{funding.pk}/"
        assert tags["twitter:card"] == "summary_large_image"
        card = http.get(tags["og:image"].removeprefix(site))
        assert card.status_code == 200
        assert Image.open(io.BytesIO(card.content)).size == (1200, 630)
        (ARTIFACTS / f"{shot}-card.png").write_bytes(card.content)
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        # 2. Sign in through Kakao's OAuth (the local server agrees at once).
        page.get_by_role("link", name="카카오로 로그인하고 선물하기").click()
        page.wait_for_url(f"**/f/{funding.pk}/")
        expect(page.get_by_role("button", name="로그아웃")).to_be_visible()
        page.screenshot(path=ARTIFACTS / f"{shot}-2-signed-in.png", full_page=True)

        # 3. Give 10,000 KRW with a message.
        page.get_by_label("10,000원").check()
        page.get_by_label("메시지").fill("생일 축하드려요! 🎂")
        page.screenshot(path=ARTIFACTS / f"{shot}-3-form.png", full_page=True)
        page.get_by_role("button", name="선물하기").click()
        page.wait_for_url("**/payments/sandbox/checkout/**")
        expect(page.locator("#amount")).to_contain_text("10,000")
        page.screenshot(path=ARTIFACTS / f"{shot}-4-checkout.png", full_page=True)
        page.get_by_role("button", name="Pay 10,000 KRW").click()

        # 4. Back on FunSun: thanks, and the progress moved.
        page.wait_for_url(f"**/f/{funding.pk}/thanks")
        expect(page.locator("h1")).to_have_text("고마워요!")
        expect(page.locator("#current")).to_have_text("60,000원")
        expect(page.locator("#percent")).to_have_text("20%")
        page.screenshot(path=ARTIFACTS / f"{shot}-5-thanks.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert violations == []

    listed = http.get("/remit/", params={"id": funding.pk})
    assert listed.status_code == 200
    assert [item["message"] for item in listed.json()] == ["생일 축하드려요! 🎂", "힘내!"]


def session_cookie(account, site: str) -> dict:
    client = Client()
    client.force_login(account)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site}


def test_two_people_give_the_last_10000_at_once(kakao_oauth, site):
    funding = FundingFactory(title="마지막 한 걸음", goal_amount=30_000)
    credited_contribution(funding, amount=20_000)
    cookies = [session_cookie(AccountFactory(), site) for _ in range(2)]
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        pages = []
        for cookie in cookies:
            context = browser.new_context(base_url=site, viewport={"width": 390, "height": 844})
            context.set_default_timeout(15_000)
            context.add_cookies([cookie])
            context.set_extra_http_headers({"Accept-Language": "ko-KR,ko;q=0.9"})
            pages.append(context.new_page())
        # Both open the form while 10,000 KRW remain, and both reach the checkout.
        for page in pages:
            page.goto(f"/f/{funding.pk}/")
            page.get_by_label("10,000원").check()
            page.get_by_label("메시지").fill("마지막 만원!")
            page.get_by_role("button", name="선물하기").click()
            page.wait_for_url("**/payments/sandbox/checkout/**")
        # Both pay at once.
        for page in pages:
            page.get_by_role("button", name="Pay 10,000 KRW").click(no_wait_after=True)
        for page in pages:
            page.wait_for_load_state("load")
            page.wait_for_function(
                "() => !location.pathname.startsWith('/payments/')"
                " && !location.pathname.startsWith('/remit/')"
            )
            page.wait_for_selector("h1")
        headings = sorted(page.locator("h1").inner_text() for page in pages)
        for index, page in enumerate(pages):
            page.screenshot(path=ARTIFACTS / f"share-race-{index}.png", full_page=True)
        browser.close()

    assert headings == ["고마워요!", "선물이 전달되지 않았어요"]
    funding.refresh_from_db()
    assert funding.current_amount == 30_000

    web_states = sorted(
        Payment.objects.filter(web_gift__funding=funding).values_list("state", flat=True)
    )
    assert web_states == [PaymentState.CREDITED, PaymentState.REFUNDED]
