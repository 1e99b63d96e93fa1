from django.urls import path

from fundings.views import checkout, fundings, payouts, remit

urlpatterns = [
    path("funding/", fundings.FundingView.as_view(), name="funding"),
    path("funding/review", fundings.FundingReviewView.as_view(), name="funding-review"),
    path("funding/public", fundings.PublicFeedView.as_view(), name="funding-public"),
    path("funding/following", fundings.FollowingFeedView.as_view(), name="funding-following"),
    path("funding/user", fundings.UserFeedView.as_view(), name="funding-user"),
    path("funding/joined", fundings.JoinedFeedView.as_view(), name="funding-joined"),
    path("funding/payout", payouts.PayoutView.as_view(), name="funding-payout"),
    path("remit/", remit.RemitView.as_view(), name="remit"),
    path("remit/kakaopay/ready", checkout.ReadyView.as_view(), name="kakaopay-ready"),
]
