"""What the commission's views share: permissions, documented errors, lookups
that answer 404 for what the requester may not see, and the case answer."""


from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.roles import AUDITOR, CHAIR, MEMBER, VERIFIER, HasRole
from audit.permissions import CanReadTrail
from commission import selectors
from commission.models import Case, Round
from commission.serializers import (
    CaseDetailSerializer,
)
from config.schema import CURSOR_NOT_FOUND, PAGE_NOT_FOUND, error_responses

READERS = (VERIFIER, CHAIR, MEMBER, AUDITOR)
# Everyone of the commission reads; monitors and people without a role do not.
READ = [IsAuthenticated, HasRole(safe_roles=READERS)]
# Verifiers and the chair triage (open cases, link, detach, record findings); members and auditors read.
TRIAGE_OR_READ = [IsAuthenticated, HasRole(VERIFIER, CHAIR, safe_roles=(MEMBER, AUDITOR))]
TRIAGE = [IsAuthenticated, HasRole(VERIFIER, CHAIR)]
MEMBERS = [IsAuthenticated, HasRole(MEMBER)]
CHAIR_ONLY = [IsAuthenticated, HasRole(CHAIR)]
# The decision trail of a case: the auditors' and the chair's, as the whole trail is (audit.api).
TRAIL = [IsAuthenticated, CanReadTrail]


def errors(*codes: int, missing: str = "case") -> dict:
    text = {
        400: "Invalid input: a message per field, in DRF's usual shape.",
        401: "Not signed in.",
        403: "Your role does not allow this.",
        404: {"page": PAGE_NOT_FOUND, "cursor": CURSOR_NOT_FOUND}.get(missing,
                                                                    f"No such {missing} (or not one you may see)."),
        409: "Not in a state that allows this (the wrong stage, a closed round, already decided).",
    }
    return error_responses(text, *codes)


# --- Lookups ------------------------------------------------------------------------


def case_or_404(user, pk) -> Case:
    case = selectors.case_get_for(user, pk)
    if case is None:
        raise NotFound("No such case.")
    return case


def round_or_404(user, pk) -> Round:
    rnd = selectors.round_get_for(user, pk)
    if rnd is None:
        raise NotFound("No such round.")
    return rnd


def measure_or_404(user, pk):
    measure = selectors.measure_get_for(user, pk)
    if measure is None:
        raise NotFound("No such measure.")
    return measure


def valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def case_response(case: Case, *, user, reread: bool = True, code=status.HTTP_200_OK) -> Response:
    if reread:
        # A service returns its locked row; read it again with its relations for the response.
        case = case_or_404(user, case.pk)
    return Response(CaseDetailSerializer(selectors.case_detail(case, user)).data, status=code)
