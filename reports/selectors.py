"""Reads with rules for reports: which things a reporter may name as a report's target."""

from django.db.models import Model

from accounts.models import Account
from fundings.models import Contribution, Funding
from fundings.selectors import visible_fundings
from reports.models import ReportType


def _as_int_id(target: str) -> int | None:
    """Funding and contribution ids are integers; the app sends them as 12 or "12"."""
    try:
        value = int(target)
    except (TypeError, ValueError):
        return None
    # Ids are 64-bit: anything larger names nothing (and would overflow the query).
    return value if 0 < value < 2**63 else None


def normalize_target(*, type: str, target: str) -> str | None:
    """The canonical spelling of a target id ("012" and "12" name one funding), or None."""
    target = str(target).strip()
    if type in (ReportType.FUNDING, ReportType.REMIT):
        value = _as_int_id(target)
        return None if value is None else str(value)
    return target or None


def reportable_target(*, reporter: Account, type: str, target: str) -> Model | None:
    """The thing `reporter` names, if it exists and they may see it; else None.

    funding: a funding visible to the reporter (the one visibility rule).
    account: an active account other than the reporter.
    remit: a contribution, not refunded, of a funding visible to the reporter.
    """
    if type == ReportType.FUNDING:
        return visible_fundings(reporter).filter(pk=int(target)).first()
    if type == ReportType.ACCOUNT:
        return Account.objects.filter(pk=target, is_active=True).exclude(pk=reporter.pk).first()
    if type == ReportType.REMIT:
        return (
            Contribution.objects.filter(
                pk=int(target),
                refunded_on__isnull=True,
                funding__in=visible_fundings(reporter).values("pk"),
            )
            .select_related("funding")
            .first()
        )
    return None


def target_object(*, type: str, target: str) -> Model | None:
    """The thing a report names, whatever its state now (for operators)."""
    model = {
        ReportType.FUNDING: Funding,
        ReportType.ACCOUNT: Account,
        ReportType.REMIT: Contribution,
    }.get(type)
    if model is None:
        return None
    pk = _as_int_id(target) if model is not Account else target
    if pk is None:
        return None
    return model.objects.filter(pk=pk).first()
