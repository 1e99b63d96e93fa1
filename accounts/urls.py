from django.urls import path

from accounts import views

# Exact paths as the app calls them (docs/API.md): no trailing-slash variants, no redirects.
# There is deliberately no "account/token" route (the original handed out admin tokens).
urlpatterns = [
    path("account/", views.AccountView.as_view(), name="account"),
    path("account/kakaologin", views.KakaoLoginView.as_view(), name="account-kakaologin"),
    path("account/signup", views.SignUpView.as_view(), name="account-signup"),
    path("account/login", views.LogInView.as_view(), name="account-login"),
    path("account/token/refresh", views.TokenRefreshView.as_view(), name="account-token-refresh"),
    path("account/logout", views.LogOutView.as_view(), name="account-logout"),
    path("account/search", views.AccountSearchView.as_view(), name="account-search"),
    path("follow/", views.FollowView.as_view(), name="follow"),
]
