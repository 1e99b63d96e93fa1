from django.urls import path

from payments import views

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
]
