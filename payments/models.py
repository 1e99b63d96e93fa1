"""Payments: one row per attempt to collect money, and an append-only log of transitions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class PaymentState(models.TextChoices):
    READY = "ready", "ready"  # provider issued a tid; the buyer has not paid yet
    APPROVED = "approved", "approved"  # provider captured the money; not credited yet
    CREDITED = "credited", "credited"  # a contribution holds this money
    FAILED = "failed", "failed"  # provider refused, or the buyer canceled
    EXPIRED = "expired", "expired"  # the tid's validity passed without approval
    # Decided: the money goes back. Taking this state is the claim that makes exactly one
    # process call the provider's cancel; reconciliation finishes it after a crash.
    REFUNDING = "refunding", "refunding"
    REFUNDED = "refunded", "refunded"  # canceled at the provider after capture


class Payment(models.Model):
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.PositiveIntegerField()
    # What the buyer sees at checkout (the provider's order shows it). What the payment is
    # for is recorded by the app that sells it, never here: payments sit below the others.
    item_name = models.CharField(max_length=100, blank=True, default="")
    message = models.CharField(max_length=255, blank=True, default="")
    provider = models.CharField(max_length=20)
    partner_order_id = models.CharField(max_length=100, unique=True)
    tid = models.CharField(max_length=100, unique=True, null=True, blank=True)
    pg_token = models.CharField(max_length=255, blank=True, default="")
    # For a provider that approves at the buyer's return (Toss): its key of the payment the
    # buyer authorised (Toss's paymentKey), which confirm, cancel and look-ups name.
    provider_key = models.CharField(max_length=200, blank=True, default="")
    # The idempotency key of the refund being made at the provider: a retry after an unknown
    # outcome sends the same one, so that the provider carries the refund out once.
    refund_key = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=10, choices=PaymentState, default=PaymentState.READY)
    # An approve whose outcome is unknown (time-out, 5xx, "already approved"...):
    # reconciliation asks the provider's lookup.
    needs_check = models.BooleanField(default=False)
    refunded_amount = models.PositiveIntegerField(default=0)
    created_on = models.DateTimeField(default=timezone.now)
    updated_on = models.DateTimeField(auto_now=True)
    approved_on = models.DateTimeField(null=True, blank=True)
    credited_on = models.DateTimeField(null=True, blank=True)
    refunded_on = models.DateTimeField(null=True, blank=True)
    # A lease: the process that set it is talking to the provider about this payment until
    # then. Others (reconciliation on another machine) leave the row alone meanwhile; a lease
    # left by a crashed process simply lapses.
    claimed_until = models.DateTimeField(null=True, blank=True)

    # The sandbox provider's own record of the order (what a real provider keeps on its side),
    # kept here because several processes serve the checkout page. Unused by kakaopay.
    sandbox_status = models.CharField(max_length=20, blank=True, default="")
    sandbox_pg_token = models.CharField(max_length=64, blank=True, default="")
    sandbox_canceled_amount = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("amount")),
                name="payment_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(state__in=PaymentState.values), name="payment_state_known"
            ),
        ]
        indexes = [
            models.Index(fields=["payer", "state", "amount"], name="payment_payer_state_idx"),
            models.Index(fields=["state", "updated_on"], name="payment_state_idx"),
        ]

    def __str__(self) -> str:
        return f"payment #{self.pk} {self.amount} {self.state}"


class PaymentEvent(models.Model):
    """Append-only: one row per transition or provider call, with the provider's raw answer."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=40)
    from_state = models.CharField(max_length=10, blank=True, default="")
    to_state = models.CharField(max_length=10, blank=True, default="")
    provider_response = models.JSONField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True, default="")
    created_on = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_on", "id"]
        indexes = [models.Index(fields=["payment", "created_on"], name="paymentevent_payment_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_state}->{self.to_state}"
