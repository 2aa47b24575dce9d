"""Pages of the commission's workflow (verifier, member, chair, auditor,
overview). They sit on commission.services/selectors and audit.services."""

from django.shortcuts import render

from accounts.roles import AUDITOR, CHAIR, MEMBER, VERIFIER
from web.access import role_required

COMMISSION_READERS = (VERIFIER, CHAIR, MEMBER, AUDITOR)


def home_context(user) -> dict:
    return {}


def case_of_report(user, report):
    return None


def _pending(request, title):
    return render(request, "web/pending.html", {"title": title})


@role_required(VERIFIER, CHAIR)
def inbox(request):
    return _pending(request, "Inbox")


@role_required(*COMMISSION_READERS)
def case_list(request):
    return _pending(request, "Cases")


@role_required(CHAIR)
def board(request):
    return _pending(request, "Board")


def decision_times() -> list[dict]:
    return []
