from django.urls import path

from web import views, views_account, views_give

urlpatterns = [
    path("f/<int:funding_id>/", views.funding_page, name="web-funding"),
    path("f/<int:funding_id>/card.png", views.funding_card, name="web-funding-card"),
    path("f/<int:funding_id>/give", views_give.give, name="web-give"),
    path("f/<int:funding_id>/thanks", views_give.thanks, name="web-thanks"),
    path("web/card.png", views.neutral_card, name="web-card"),
    path("web/login/kakao", views_account.kakao_start, name="web-login-kakao"),
    path("web/login/kakao/callback", views_account.kakao_callback, name="web-login-callback"),
    path("web/logout", views_account.sign_out, name="web-logout"),
    path("web/give/return", views_give.payment_return, name="web-give-return"),
    path("web/give/stopped", views_give.payment_stopped, name="web-give-stopped"),
]
