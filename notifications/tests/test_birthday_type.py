"""Which calendar a birthday is on: from Kakao at the first login, or set in the profile."""

import pytest

from accounts.models import Account
from accounts.tests import kakao_server as ks

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("kakao_says", "stored"), [("LUNAR", "lunar"), ("SOLAR", "solar")])
def test_kakao_says_solar_or_lunar_at_the_first_login(api, kakao, kakao_says, stored):
    kakao.users["t"] = ks.kakao_user(kakao_id=601, birthday="0815", birthday_type=kakao_says)
    response = api.post("/account/kakaologin", {"accessToken": "t"})
    assert response.status_code == 201
    assert response.json()["user"]["birthday_type"] == stored
    assert Account.objects.get(pk="601").birthday_type == stored


def test_a_missing_or_odd_type_is_solar(api, kakao):
    kakao.users["t"] = ks.kakao_user(kakao_id=602, birthday_type=["LUNAR"])
    assert api.post("/account/kakaologin", {"accessToken": "t"}).status_code == 201
    assert Account.objects.get(pk="602").birthday_type == "solar"


def test_the_profile_edit_sets_it(account, auth_api):
    response = auth_api.put("/account/", {"birthday_type": "lunar"}, format="multipart")
    assert response.status_code == 200 and response.json()["birthday_type"] == "lunar"
    account.refresh_from_db()
    assert account.birthday_type == "lunar"
    response = auth_api.put("/account/", {"birthday_type": "julian"}, format="multipart")
    assert response.status_code == 400 and "detail" in response.json()
    account.refresh_from_db()
    assert account.birthday_type == "lunar"
