"""The commission's side of notifications: who is told about a case."""

from commission.models import Case
from notifications.services import notify


def notify_about(case: Case, *, recipients, kind: str, key: str, subject: str, body: str = "",
                 email_now: bool = True) -> None:
    notify(recipients=recipients, kind=kind, key=key, subject=subject, body=body, case_id=case.pk,
           case_reference=case.reference or "", email_now=email_now)
