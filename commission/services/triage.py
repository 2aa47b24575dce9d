"""Triage: cases opened from submitted reports, reports linked and detached,
and a report returned to its monitor with a question."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.roles import CHAIR, VERIFIER, has_role
from audit.services import audit_record
from commission.models import Case, CaseReport, DeadlineKind, Stage
from commission.services.base import TITLE_MAX, locked_case, require, text
from commission.services.deadlines import deadline_create
from config.errors import Conflict, Forbidden
from notifications.services import notify
from reports.models import Report, ReportStatus
from reports.services.counts import report_counts_follow

MAX_REPORTS_PER_REQUEST = 100


def _submitted_reports(report_ids) -> list[Report]:
    ids = sorted({int(r.pk if isinstance(r, Report) else r) for r in report_ids})
    if not ids:
        raise ValidationError({"reports": [_("Select at least one report.")]})
    if len(ids) > MAX_REPORTS_PER_REQUEST:
        raise ValidationError({"reports": [
            _("At most %(n)d reports at a time.") % {"n": MAX_REPORTS_PER_REQUEST}]})
    # Locked so that two verifiers linking the same report (or one returning
    # it, report_return) queue up here; the partial unique index on
    # CaseReport is the last word if they do not.
    # A monitor's draft is invisible to verifiers: it is answered exactly like
    # an unknown id, so the error does not tell that a draft exists.
    reports = list(Report.objects.select_for_update().filter(pk__in=ids, status=ReportStatus.SUBMITTED)
                   .order_by("pk"))
    found = {r.pk for r in reports}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError({"reports": [
            _("No submitted report with id %(ids)s.") % {"ids": ", ".join(map(str, missing))}]})
    taken = list(CaseReport.objects.filter(report__in=reports, detached_at__isnull=True)
                 .select_related("case", "report").order_by("report_id"))
    if taken:
        names = ", ".join(_("%(report)s (in %(case)s)") % {"report": link.report.reference,
                                                              "case": link.case.reference} for link in taken)
        raise Conflict(_("Already in a case: %(names)s.") % {"names": names}, field="reports",
                       code="already_in_case")
    return reports


def _link(case: Case, reports: list[Report], actor) -> None:
    try:
        with transaction.atomic():
            CaseReport.objects.bulk_create([CaseReport(case=case, report=r, linked_by=actor) for r in reports])
    except IntegrityError:
        raise Conflict(_("A report was put in another case at the same moment."), field="reports",
                       code="already_in_case")
    for report in reports:
        audit_record(actor=actor, action="case.report_linked", object_type="case", object_id=case.pk,
                     after={"case": case.reference, "report": report.reference, "report_id": report.pk})


def case_open(*, actor, title: str, reports) -> Case:
    """A verifier (or the chair) opens a case from submitted reports; the
    verification deadline starts now."""
    require(actor, VERIFIER, CHAIR, what=gettext_noop("open cases"))
    title = text(title, field="title", max_length=TITLE_MAX)
    now = timezone.now()
    with transaction.atomic():
        chosen = _submitted_reports(reports)
        case = Case.objects.create(title=title, opened_by=actor,
                                   verifier=actor if has_role(actor, VERIFIER) else None)
        case.reference = f"{Case.REFERENCE_PREFIX}-{case.created_at:%Y}-{case.pk:06d}"
        case.save(update_fields=["reference"])
        audit_record(actor=actor, action="case.opened", object_type="case", object_id=case.pk,
                     after={"reference": case.reference, "title": title, "stage": case.stage,
                            "reports": [r.reference for r in chosen]})
        _link(case, chosen, actor)
        deadline_create(case=case, kind=DeadlineKind.VERIFICATION, due_at=now + settings.DEADLINE_VERIFICATION,
                        actor=actor)
    return case


def case_link_reports(*, actor, case: Case, reports) -> Case:
    require(actor, VERIFIER, CHAIR, what=gettext_noop("link reports"))
    with transaction.atomic():
        case = locked_case(case.pk)
        if case.stage != Stage.VERIFICATION:
            raise Conflict(_("Reports can be linked only while the case is in verification."))
        _link(case, _submitted_reports(reports), actor)
    return case


def case_detach_report(*, actor, case: Case, report: Report, reason: str) -> Case:
    require(actor, VERIFIER, CHAIR, what=gettext_noop("detach reports"))
    reason = text(reason, field="reason")
    with transaction.atomic():
        case = locked_case(case.pk)
        if case.stage != Stage.VERIFICATION:
            raise Conflict(_("Reports can be detached only while the case is in verification."))
        links = list(CaseReport.objects.select_for_update().filter(case=case, detached_at__isnull=True))
        link = next((item for item in links if item.report_id == report.pk), None)
        if link is None:
            raise ValidationError({"report": [_("This report is not linked to the case.")]})
        if len(links) == 1:
            raise Conflict(_("A case keeps at least one report: link the right one before detaching this one."),
                           field="report", code="last_report")
        link.detached_at = timezone.now()
        link.detached_by = actor
        link.detach_reason = reason
        link.save(update_fields=["detached_at", "detached_by", "detach_reason"])
        audit_record(actor=actor, action="case.report_detached", object_type="case", object_id=case.pk,
                     before={"report": report.reference, "report_id": report.pk}, after={"case": case.reference},
                     reason=reason)
    return case


def report_return(*, actor, report: Report, reason: str) -> Report:
    """Send a submitted report back to its monitor with a question (verifier
    or chair). The report leaves the triage inbox until its author edits it
    and submits it again (reports.services.report_update).

    Only a submitted report in no case (a live CaseReport link) can be
    returned: 409 otherwise; once in a case, the record is the case's and
    questions belong to the verification. Writes report.returned (the
    question as the event's reason) and a notification to the author, in
    one transaction; the email goes out after commit.
    """
    if not has_role(actor, VERIFIER, CHAIR):
        raise Forbidden(_("Only verifiers and the chair may return a report to its monitor."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say what the monitor should add or correct.")]})
    with transaction.atomic():
        # The report row is the lock that case_open/case_link_reports take
        # too (_submitted_reports): a report is either returned or put in a
        # case, never both.
        report = Report.objects.select_for_update(of=("self",)).select_related("author").get(pk=report.pk)
        if report.status != ReportStatus.SUBMITTED:
            # A draft is invisible to verifiers: answered like a returned one,
            # without saying it is a draft.
            raise Conflict(_("%(reference)s is not a submitted report waiting for triage.")
                           % {"reference": report.reference}, code="not_submitted")
        link = CaseReport.objects.filter(report=report, detached_at__isnull=True).select_related("case").first()
        if link is not None:
            raise Conflict(_("%(reference)s is in case %(case)s; it can no longer be returned.")
                           % {"reference": report.reference, "case": link.case.reference},
                           code="already_in_case")
        now = timezone.now()
        with report_counts_follow(report_ids=[report.pk]):
            report.mark_returned(reason=reason, by=actor, now=now)
        audit_record(actor=actor, action="report.returned", object_type="report", object_id=report.pk,
                     before={"status": ReportStatus.SUBMITTED},
                     after={"status": ReportStatus.RETURNED, "reference": report.reference,
                            "author": report.author.get_username(), "returned_at": DjangoJSONEncoder().default(now)},
                     reason=reason)
        notify(recipients=[report.author], kind="report_returned", key=f"returned:{report.pk}:{now.isoformat()}",
               params={"reference": report.reference, "by": actor.get_username(), "reason": reason}, once=False)
    return report


def report_return_many(*, actor, reports, reason: str) -> list[Report]:
    """report_return for several reports with one question (the inbox's bulk
    action): all or nothing. One transaction: the rows are locked first, in
    id order (as _submitted_reports does, so two bulk actions cannot
    deadlock), then each is returned by report_return itself (one
    report.returned event and one notification each, as if returned alone);
    the first that cannot be (not submitted, or in a case) raises its 409,
    and nothing is returned."""
    if not has_role(actor, VERIFIER, CHAIR):
        raise Forbidden(_("Only verifiers and the chair may return a report to its monitor."))
    ids = sorted({int(r.pk if isinstance(r, Report) else r) for r in reports})
    if not ids:
        raise ValidationError({"reports": [_("Select at least one report.")]})
    if len(ids) > MAX_REPORTS_PER_REQUEST:
        raise ValidationError({"reports": [
            _("At most %(n)d reports at a time.") % {"n": MAX_REPORTS_PER_REQUEST}]})
    with transaction.atomic():
        locked = list(Report.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))
        missing = sorted(set(ids) - {r.pk for r in locked})
        if missing:
            raise ValidationError({"reports": [
                _("No submitted report with id %(ids)s.") % {"ids": ", ".join(map(str, missing))}]})
        return [report_return(actor=actor, report=report, reason=reason) for report in locked]
