"""Everything that writes reports and moderation. Each service owns its transaction.

Moderation services are called by the admin (reports/admin.py) with the operator as
`actor`; each one writes a ModerationAction row in the same transaction as its effect,
so the log never claims something that did not happen, nor misses something that did.
"""

import logging
from typing import Final

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from accounts.services import deactivate_account
from fundings.models import Contribution, Funding
from funsun.api.errors import InvalidInput, NotFound
from reports.errors import DuplicateReport
from reports.models import ModerationAction, Report, ReportType
from reports.selectors import normalize_target, reportable_target

logger = logging.getLogger(__name__)

REMOVED_MESSAGE: Final = "(removed by moderator)"
DUPLICATE_REPORT: Final = "You already reported this; operators will look at it."


class ModerationActionName:
    RESOLVE_REPORT: Final = "resolve_report"
    HIDE_FUNDING: Final = "hide_funding"
    DEACTIVATE_ACCOUNT: Final = "deactivate_account"
    REMOVE_MESSAGE: Final = "remove_message"


# --- Reports from users -------------------------------------------------------------------


def create_report(*, reporter: Account, type: str, target: str, message: str) -> Report:
    """File a report. The target must exist and be visible to the reporter (else 400).

    One open report per reporter and target: a repeat is a 409. The database's partial
    unique constraint decides when two identical reports race.
    """
    if type not in ReportType.values:
        raise InvalidInput(f"Unknown report type {type!r}.")
    canonical = normalize_target(type=type, target=target)
    if (
        canonical is None
        or reportable_target(reporter=reporter, type=type, target=canonical) is None
    ):
        raise InvalidInput(f"No {type} {target!s} to report.")
    open_reports = Report.objects.filter(
        reporter=reporter, type=type, target=canonical, is_solved=False
    )
    if open_reports.exists():
        raise DuplicateReport(DUPLICATE_REPORT)
    try:
        with transaction.atomic():
            report = Report.objects.create(
                reporter=reporter, type=type, target=canonical, message=message
            )
    except IntegrityError as error:
        # The only constraint a valid report can break is one open report per target.
        raise DuplicateReport(DUPLICATE_REPORT) from error
    logger.info("report %s filed: %s %s", report.pk, type, canonical)
    return report


# --- Moderation (operators) ---------------------------------------------------------------


def _log(*, actor: Account, action: str, target_type: str, target_id: object, note: str = ""):
    return ModerationAction.objects.create(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        note=note[:500],
    )


def _resolve(*, report: Report, actor: Account, note: str) -> bool:
    """Mark the report solved unless it already is (guarded: two operators at once log once)."""
    resolved = Report.objects.filter(pk=report.pk, is_solved=False).update(
        is_solved=True, solved_by=actor, solved_on=timezone.now()
    )
    if resolved:
        _log(
            actor=actor,
            action=ModerationActionName.RESOLVE_REPORT,
            target_type="report",
            target_id=report.pk,
            note=note,
        )
    return bool(resolved)


def resolve_report(*, report: Report, actor: Account) -> bool:
    """Close a report without acting on its target. False if it was already solved."""
    with transaction.atomic():
        return _resolve(report=report, actor=actor, note="")


def _require_type(report: Report, expected: str) -> None:
    if report.type != expected:
        raise InvalidInput(f"Report #{report.pk} is of type {report.type}, not {expected}.")


def hide_reported_funding(*, report: Report, actor: Account) -> Funding:
    """Hide the reported funding from everyone but staff, and resolve the report."""
    _require_type(report, ReportType.FUNDING)
    with transaction.atomic():
        funding = Funding.objects.select_for_update().filter(pk=int(report.target)).first()
        if funding is None:
            raise NotFound(f"Funding {report.target} no longer exists.")
        if not funding.is_hidden:
            Funding.objects.filter(pk=funding.pk).update(is_hidden=True)
            funding.is_hidden = True
            _log(
                actor=actor,
                action=ModerationActionName.HIDE_FUNDING,
                target_type=ReportType.FUNDING,
                target_id=funding.pk,
                note=f"report #{report.pk}",
            )
        _resolve(report=report, actor=actor, note=f"funding {funding.pk} hidden")
    logger.info("funding %s hidden by %s (report %s)", funding.pk, actor.pk, report.pk)
    return funding


def deactivate_reported_account(*, report: Report, actor: Account) -> Account:
    """Deactivate the reported account (accounts' own service erases and revokes), resolve."""
    _require_type(report, ReportType.ACCOUNT)
    account = Account.objects.filter(pk=report.target).first()
    if account is None:
        raise NotFound(f"Account {report.target} no longer exists.")
    if account.is_staff or account.pk == actor.pk:
        # Operators are managed in the account admin, never from a user's report.
        raise InvalidInput(f"Account {account.pk} is staff; it is not deactivated from a report.")
    with transaction.atomic():
        was_active = Account.objects.filter(pk=account.pk, is_active=True).exists()
        # Its own transaction becomes a savepoint here; its after-commit work (refunds of
        # what the account has open) runs once this whole transaction has committed.
        deactivate_account(account=account)
        if was_active:
            _log(
                actor=actor,
                action=ModerationActionName.DEACTIVATE_ACCOUNT,
                target_type=ReportType.ACCOUNT,
                target_id=account.pk,
                note=f"report #{report.pk}",
            )
        _resolve(report=report, actor=actor, note=f"account {account.pk} deactivated")
    account.refresh_from_db()
    logger.info("account %s deactivated by %s (report %s)", account.pk, actor.pk, report.pk)
    return account


def remove_reported_message(*, report: Report, actor: Account) -> Contribution:
    """Replace the reported contribution's message with a fixed text, and resolve.

    Only the message changes: the contribution and its money stay exactly as they are.
    """
    _require_type(report, ReportType.REMIT)
    with transaction.atomic():
        contribution = (
            Contribution.objects.select_for_update().filter(pk=int(report.target)).first()
        )
        if contribution is None:
            raise NotFound(f"Contribution {report.target} no longer exists.")
        if contribution.message != REMOVED_MESSAGE:
            Contribution.objects.filter(pk=contribution.pk).update(message=REMOVED_MESSAGE)
            contribution.message = REMOVED_MESSAGE
            _log(
                actor=actor,
                action=ModerationActionName.REMOVE_MESSAGE,
                target_type=ReportType.REMIT,
                target_id=contribution.pk,
                note=f"report #{report.pk}",
            )
        _resolve(
            report=report, actor=actor, note=f"message of contribution {contribution.pk} removed"
        )
    logger.info("message of contribution %s removed by %s", contribution.pk, actor.pk)
    return contribution
