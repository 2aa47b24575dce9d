"""The whole flow once, through the services: the rules are tested one by one elsewhere."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import trail_seal, trail_verify
from commission import services
from commission.models import Deadline

pytestmark = pytest.mark.django_db


def test_a_case_goes_from_reports_to_closure_with_its_trail(people, case_in):
    case = case_in("measures")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                       description="Targeted sanctions on the artillery brigade.",
                                       compliance_due_at=timezone.now() + timedelta(days=30))
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    services.measure_compliance_record(actor=people["chair"], measure=measure, compliance="complied",
                                       note="Confirmed by monitors.")
    services.case_close(actor=people["chair"], case=case, summary="Attributed to RU; sanctions complied.")
    case.refresh_from_db()
    assert case.stage == "closed"
    assert set(Deadline.objects.filter(case=case).values_list("kind", "status")) == {
        ("verification", "met"), ("vote", "met"), ("measures", "met"), ("compliance", "met")}
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert "round.tallied" in actions and actions[-1] in ("case.closed", "deadline.met")
    trail_seal()
    assert trail_verify().ok
