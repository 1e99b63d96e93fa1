from django.urls import path

from payments import views, views_toss

urlpatterns = [
    path("remit/kakaopay/approve", views.ApproveView.as_view(), name="kakaopay-approve"),
    path("remit/kakaopay/approval", views.ApprovalPageView.as_view(), name="kakaopay-approval"),
    path("remit/kakaopay/cancel", views.CancelPageView.as_view(), name="kakaopay-cancel"),
    path("remit/kakaopay/fail", views.FailPageView.as_view(), name="kakaopay-fail"),
    path(
        "payments/sandbox/checkout/<str:tid>",
        views.SandboxCheckoutView.as_view(),
        name="sandbox-checkout",
    ),
    path(
        "payments/toss/checkout/<str:order_id>",
        views_toss.TossCheckoutView.as_view(),
        name="toss-checkout",
    ),
    path("payments/toss/success", views_toss.TossSuccessView.as_view(), name="toss-success"),
    path("payments/toss/fail", views_toss.TossFailView.as_view(), name="toss-fail"),
    path("payments/toss/webhook", views_toss.TossWebhookView.as_view(), name="toss-webhook"),
]
