"""The commission's side of notifications: who is told about a case, and
what the text needs to know of it (its reference and title, always)."""

from django.contrib.auth import get_user_model

from accounts.roles import MEMBER
from commission.models import Case
from commission.services.base import chairs
from notifications.services import notify


def note_about(case: Case, *, recipients, kind: str, key: str, params: dict | None = None) -> dict:
    """What notify is given about a case: one item of notify_many, so that the
    sweep's batched notifications are the rows notify_about stores."""
    return {"recipients": recipients, "kind": kind, "key": key, "params": {"title": case.title, **(params or {})},
            "case_id": case.pk, "case_reference": case.reference or ""}


def notify_about(case: Case, *, recipients, kind: str, key: str, params: dict | None = None,
                 email_now: bool = True) -> None:
    """Called inside the transaction of the change it tells of: the rows
    commit (or roll back) with it, and the mailer runs after commit."""
    notify(**note_about(case, recipients=recipients, kind=kind, key=key, params=params), email_now=email_now)


def members():
    User = get_user_model()
    return User.objects.filter(groups__name=MEMBER, is_active=True).distinct().order_by("id")


def on_the_case(case: Case) -> list:
    """Everyone on a case, told when it closes: the chair(s), every member
    (members read every case and vote on them), and its verifier. Monitors
    are not: they read their reports, never cases (docs/security.md); party
    representatives are not either (their part ends with attribution)."""
    people = [*chairs(), *members()]
    if case.verifier_id:
        people.append(case.verifier)
    return list({u.pk: u for u in people if u.is_active}.values())
