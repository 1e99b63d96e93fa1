"""Moderation through the admin, as an operator clicks it: every action leaves a log row."""

import pytest
from django.test import Client

from fundings.models import Contribution, Funding
from fundings.selectors import visible_fundings
from reports.models import ModerationAction, Report
from reports.services import REMOVED_MESSAGE
from reports.tests.test_reports import credit
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reports/report/"


@pytest.fixture
def operator():
    return AccountFactory(is_staff=True, is_superuser=True, username="operator")


@pytest.fixture
def browser(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def make_report(type, target, reporter=None):
    return Report.objects.create(
        reporter=reporter or AccountFactory(), type=type, target=str(target), message="bad"
    )


def run_action(browser, action, *reports):
    return browser.post(
        CHANGELIST, {"action": action, "_selected_action": [r.pk for r in reports]}, follow=True
    )


def test_the_report_list_filters_by_type_and_state(browser):
    funding = FundingFactory(title="Suspicious gift")
    funding_report = make_report("funding", funding.pk)
    account_report = make_report("account", AccountFactory().pk)
    Report.objects.filter(pk=account_report.pk).update(is_solved=True)

    page = browser.get(CHANGELIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert f"funding {funding.pk}" in html
    assert "Hide the reported funding" in html

    only_open_fundings = browser.get(CHANGELIST, {"type": "funding", "is_solved__exact": "0"})
    assert only_open_fundings.status_code == 200
    shown = list(only_open_fundings.context["cl"].result_list)
    assert shown == [funding_report]


def test_resolve_writes_a_moderation_action(browser, operator):
    report = make_report("funding", FundingFactory().pk)
    response = run_action(browser, "resolve", report)
    assert response.status_code == 200
    report.refresh_from_db()
    assert report.is_solved
    assert report.solved_by == operator
    assert report.solved_on is not None
    log = ModerationAction.objects.get()
    assert (log.actor, log.action, log.target_type, log.target_id) == (
        operator,
        "resolve_report",
        "report",
        str(report.pk),
    )
    # Resolving again changes nothing and logs nothing.
    run_action(browser, "resolve", report)
    assert ModerationAction.objects.count() == 1


def test_hide_funding_hides_it_from_everyone_but_staff(browser, operator):
    funding = FundingFactory()
    viewer = AccountFactory()
    report = make_report("funding", funding.pk, reporter=viewer)
    assert visible_fundings(viewer).filter(pk=funding.pk).exists()

    response = run_action(browser, "hide_funding", report)
    assert response.status_code == 200
    assert "Funding hidden: 1 report(s)." in response.content.decode()
    assert Funding.objects.get(pk=funding.pk).is_hidden
    assert not visible_fundings(viewer).filter(pk=funding.pk).exists()
    assert not visible_fundings(funding.author).filter(pk=funding.pk).exists()
    assert visible_fundings(operator).filter(pk=funding.pk).exists()
    report.refresh_from_db()
    assert report.is_solved and report.solved_by == operator
    actions = set(ModerationAction.objects.values_list("action", "target_type", "target_id"))
    assert actions == {
        ("hide_funding", "funding", str(funding.pk)),
        ("resolve_report", "report", str(report.pk)),
    }
    assert set(ModerationAction.objects.values_list("actor", flat=True)) == {operator.pk}


def test_deactivate_account_stops_its_tokens(browser, operator):
    target = AccountFactory(bank_account="국민 123-456")
    target_api = client_for(target)
    report = make_report("account", target.pk)

    response = run_action(browser, "deactivate_account", report)
    assert response.status_code == 200
    target.refresh_from_db()
    assert not target.is_active
    assert target.bank_account is None
    assert target_api.post("/report/", {}, format="json").status_code == 401
    assert ModerationAction.objects.filter(
        action="deactivate_account", target_type="account", target_id=target.pk, actor=operator
    ).exists()
    assert Report.objects.get(pk=report.pk).is_solved


def test_remove_message_replaces_only_the_message(browser, operator):
    funding = FundingFactory()
    contribution = credit(funding, AccountFactory(), amount=7_000, message="insulting words")
    report = make_report("remit", contribution.pk)

    response = run_action(browser, "remove_message", report)
    assert response.status_code == 200
    contribution.refresh_from_db()
    assert contribution.message == REMOVED_MESSAGE
    assert contribution.amount == 7_000 and contribution.refunded_on is None
    assert Funding.objects.get(pk=funding.pk).current_amount == 7_000
    assert ModerationAction.objects.filter(
        action="remove_message", target_type="remit", target_id=str(contribution.pk)
    ).exists()
    assert Report.objects.get(pk=report.pk).is_solved


def test_an_action_that_does_not_fit_the_report_changes_nothing(browser):
    account_report = make_report("account", AccountFactory().pk)
    funding = FundingFactory()
    funding_report = make_report("funding", funding.pk)

    response = run_action(browser, "remove_message", account_report, funding_report)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Not done:" in html
    assert "is of type account, not remit" in html
    assert not ModerationAction.objects.exists()
    assert not Report.objects.filter(is_solved=True).exists()
    assert not Funding.objects.get(pk=funding.pk).is_hidden


def test_staff_accounts_are_not_deactivated_from_a_report(browser, operator):
    other_operator = AccountFactory(is_staff=True)
    report = make_report("account", other_operator.pk)
    run_action(browser, "deactivate_account", report)
    other_operator.refresh_from_db()
    assert other_operator.is_active
    assert not ModerationAction.objects.exists()


def test_a_message_of_a_vanished_target_is_clear(browser):
    report = make_report("remit", 424242)
    html = run_action(browser, "remove_message", report).content.decode()
    assert "Contribution 424242 no longer exists." in html
    assert Contribution.objects.count() == 0


def test_the_moderation_log_is_listed_and_read_only(browser, operator):
    run_action(browser, "resolve", make_report("funding", FundingFactory().pk))
    log = ModerationAction.objects.get()

    listing = browser.get("/admin/reports/moderationaction/")
    assert listing.status_code == 200
    assert "resolve_report" in listing.content.decode()
    assert browser.get("/admin/reports/moderationaction/add/").status_code == 403
    detail = f"/admin/reports/moderationaction/{log.pk}/change/"
    assert browser.get(detail).status_code == 200  # view-only page
    browser.post(detail, {"action": "forged", "note": "x"})
    assert ModerationAction.objects.get().action == "resolve_report"
    delete = f"/admin/reports/moderationaction/{log.pk}/delete/"
    assert browser.post(delete, {"post": "yes"}).status_code == 403
    assert ModerationAction.objects.count() == 1


def test_people_who_are_not_staff_cannot_moderate():
    report = make_report("funding", FundingFactory().pk)
    client = Client()
    client.force_login(AccountFactory())
    response = client.post(CHANGELIST, {"action": "resolve", "_selected_action": [report.pk]})
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert not Report.objects.get(pk=report.pk).is_solved
