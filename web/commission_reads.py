"""Shapes of the commission's reads for the templates: dicts in the names the
templates use, and a few reads the pages need in one query. No rule lives
here: what a person may do is commission.selectors.case_actions, and every
write is a commission service called by the page itself (web.commission_pages,
web.inbox_pages).
"""

import re
import statistics
from decimal import Decimal

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Max, Min, Q
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from commission import selectors as _sel
from notifications.kinds import render
from notifications.selectors import notification_list_for

# --- Home, inbox, overview -------------------------------------------------------------


def inbox_reports(user):
    """Submitted reports in no case yet. Oldest first: the report that has
    waited longest is the one to triage next (the page says so)."""
    return _sel.inbox_reports(user).order_by("submitted_at", "id")


def inbox_count(user, *, cap: int) -> int:
    """How many reports wait in the inbox, counted up to `cap` (one LIMIT
    query on the inbox's index, however long the inbox is)."""
    return _sel.inbox_reports(user).order_by()[:cap].count()


def rounds_awaiting_ballot(user) -> list:
    # A list: the cases page walks it twice.
    return list(_sel.rounds_awaiting_ballot(user))


def deadlines_for(user) -> list:
    return _sel.deadlines_for_home(user)


def notifications_for(user, *, limit: int = 10) -> list:
    """The latest notifications, each with its text in the active language
    (`text_subject`, `text_body`), rendered now rather than stored."""
    notes = list(notification_list_for(user)[:limit])
    reads_cases = _sel.can_read_cases(user)
    for note in notes:
        note.text_subject, note.text_body = render(note)
        # Where the case is for this reader: its page, or a representative's hearing of it.
        note.url = None
        if note.case_id and reads_cases:
            note.url = reverse("web:case_detail", args=[note.case_id])
        elif note.case_id and note.kind == "reply_requested":
            note.url = reverse("web:case_reply", args=[note.case_id])
    return notes


def cases_awaiting_round(user) -> list[dict]:
    return _sel.cases_awaiting_round(user)


def measures_awaiting_decision(user) -> list:
    return list(_sel.measures_awaiting_decision(user)[:20])


def case_of_report(report):
    return _sel.case_of_report(report)


def similar_with_case(report, visible) -> list:
    """Duplicate candidates of `report` among what the reader may see, each
    with `case` (the case it is already in, or None) and `case_reference`."""
    return similar_with_cases([report], visible)[0]


def similar_with_cases(reports, visible) -> list[list]:
    """similar_with_case for a page of reports: one query for the
    candidates of the whole page (reports.similar.report_similar_many)
    and one for the cases of all the candidates."""
    from reports import similar as report_similar

    lists = report_similar.report_similar_many(list(reports), among=visible)
    ids = {other.pk for similar in lists for other in similar}
    cases = _sel.live_cases_of(ids) if ids else {}
    for similar in lists:
        for other in similar:
            other.case = cases.get(other.pk)
            other.case_reference = other.case.reference if other.case else None
    return lists


class _Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the median, interpolated between
    the two middle values as statistics.median does."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def stage_duration_summary() -> dict[str, tuple[int, float, float]]:
    """stage -> (cases, median seconds, longest seconds), for the stages
    some case got through (the same durations as stage_durations).

    On PostgreSQL one aggregate query: the overview showed this table by
    loading three timestamps of every verified case into Python (0.55 s of
    a 0.74 s page at 10,000 cases; BENCHMARKS.md, "Scale"). tests/web/
    test_decision_times.py proves both ways give the same table."""
    if connection.vendor != "postgresql":
        return {stage: (len(seconds), statistics.median(seconds), max(seconds))
                for stage, seconds in stage_durations().items() if seconds}
    from commission.models import Case, RoundStatus
    from commission.tally import NO_QUORUM, TIE

    # The first decisive round's close, per case: a join and a GROUP BY, which
    # the aggregate below reads as a subquery (a correlated subquery here was
    # re-run for each of the aggregates that use it).
    decided = Min("rounds__closed_at", filter=Q(rounds__status=RoundStatus.CLOSED)
                  & ~Q(rounds__outcome__in=[TIE, NO_QUORUM]))
    spans = {
        "verification": (F("verified_at") - F("created_at"), Q()),
        "attribution": (F("decided") - F("verified_at"), Q(decided__isnull=False)),
        "measures": (F("closed_at") - F("decided"),
                     Q(decided__isnull=False, attributed_party__isnull=False, closed_at__isnull=False)),
    }
    aggregates = {}
    for stage, (span, only) in spans.items():
        span = ExpressionWrapper(span, output_field=DurationField())
        aggregates |= {f"{stage}_n": Count("pk", filter=only), f"{stage}_median": _Median(span, filter=only),
                       f"{stage}_max": Max(span, filter=only)}
    row = (Case.objects.filter(verified_at__isnull=False).annotate(decided=decided).order_by()
           .aggregate(**aggregates))
    return {stage: (row[f"{stage}_n"], row[f"{stage}_median"].total_seconds(), row[f"{stage}_max"].total_seconds())
            for stage in spans if row[f"{stage}_n"]}


def stage_durations() -> dict[str, list[float]]:
    """Seconds each case took to get through a stage, for the stages it got
    through: verification (opened -> findings), attribution (findings -> the
    round that decided: a party or undetermined) and measures (attribution
    -> closed). Two queries, whatever the number of cases."""
    from commission.models import Case, Round, RoundStatus
    from commission.tally import NO_QUORUM, TIE

    cases = list(Case.objects.filter(verified_at__isnull=False).order_by()
                 .values_list("pk", "created_at", "verified_at", "closed_at", "attributed_party_id"))
    decided = {}
    for case_id, closed_at in (Round.objects.filter(status=RoundStatus.CLOSED).exclude(outcome__in=[TIE, NO_QUORUM])
                               .order_by("closed_at").values_list("case_id", "closed_at")):
        decided.setdefault(case_id, closed_at)  # the first decisive round (there is only one)
    out: dict[str, list[float]] = {"verification": [], "attribution": [], "measures": []}
    for pk, created_at, verified_at, closed_at, party in cases:
        out["verification"].append((verified_at - created_at).total_seconds())
        if pk in decided:
            out["attribution"].append((decided[pk] - verified_at).total_seconds())
            if party is not None and closed_at is not None:
                out["measures"].append((closed_at - decided[pk]).total_seconds())
    return out


# --- Cases ---------------------------------------------------------------------------------


def case_reports(case, user):
    # Every commission reader may read every submitted report, and only
    # submitted reports are ever linked: the case's scope is the reader's.
    return _sel.case_reports(case)


def case_verification(case) -> dict | None:
    if not case.verification_outcome:
        return None
    by = case.verified_by
    return {"outcome": case.verification_outcome, "findings": case.findings,
            "by": by.get_full_name() or by.username if by else "—", "at": case.verified_at}


def report_by_reference(user, text: str):
    """A submitted report the user may see, by its reference (RPT-2026-000123,
    any case) or its number. The reference is derived from the id and the
    year of filing, so both must match."""
    from reports import selectors as report_selectors
    from reports.models import ReportStatus

    text = (text or "").strip()
    match = re.fullmatch(r"(?:([A-Za-z]+)-(\d{4})-)?0*(\d{1,12})", text)
    if not match:
        return None
    report = (report_selectors.report_list_for(user).filter(pk=int(match.group(3)), status=ReportStatus.SUBMITTED)
              .first())
    if report is not None and match.group(1) and report.reference.upper() != text.upper():
        return None
    return report


# --- Rounds and ballots ---------------------------------------------------------------------


def _percent(share) -> str:
    return f"{(Decimal(share) * 100).normalize():f}"


def case_rounds(case, user) -> list[dict]:
    """Every round as the public sees it (turnout while open, the result once
    closed: commission.selectors.round_public), plus the quorum in percent."""
    sel = _sel
    rounds = []
    for rnd in sel.case_rounds(case):
        public = sel.round_public(rnd)
        public["quorum_percent"] = _percent(public["quorum"])
        if public["result"]:
            # The tally in words: a party's name rather than its code.
            public["counts_named"] = [{"name": sel.choice_name(choice), "count": n}
                                      for choice, n in sorted(public["result"]["counts"].items(),
                                                              key=lambda item: -item[1])]
        # Turnout as a share of the eligible members, beside the quorum asked for.
        public["turnout_percent"] = (round(100 * public["ballots_cast"] / public["eligible_count"])
                                     if public["eligible_count"] else 0)
        # Its closing time means nothing while the chair has its clock paused.
        public["clock_paused"] = rnd.status == "open" and sel.round_clock_paused(rnd)
        rounds.append(public)
    return rounds


def recusal_reason(case, user, open_round) -> str | None:
    """Why `user` cannot vote in the open round, or None if they can. The
    reasons are the service's; a member who joined after the round opened
    is not among its voters either."""
    if _sel.is_eligible(open_round["id"], user):
        return None
    return (_sel.recusal_reason(case=case, member=user)
            or _("You were not a member when this round opened."))


def my_ballot(open_round, user) -> dict | None:
    return _sel.ballot_own(open_round["id"], user)


# --- Measures --------------------------------------------------------------------------------


def case_measures(case) -> list[dict]:
    out = []
    for m in _sel.case_measures(case):
        out.append({
            "pk": m.pk, "kind": m.kind, "addressee": m.addressee.code, "description": m.description,
            "status": m.status, "compliance": m.compliance, "compliance_due_at": m.compliance_due_at,
            "compliance_note": m.compliance_note, "decision_reason": m.decision_reason,
            "proposed_by": m.proposed_by.username, "decided_by": m.decided_by.username if m.decided_by else None,
            # Compliance can still be recorded (the service's own condition).
            "compliance_open": m.compliance in ("pending", "overdue"),
        })
    return out


def measure_get(case, pk):
    measure = _sel.case_measures(case).filter(pk=pk).first()
    if measure is None:
        raise Http404
    return measure


# --- Deadlines and closure ------------------------------------------------------------------


def deadline_get(case, pk):
    deadline = _sel.case_deadlines(case).filter(pk=pk).first()
    if deadline is None:
        raise Http404
    return deadline


# --- The chair's board ------------------------------------------------------------------------


def board(user) -> list[dict]:
    """The selector's columns, each case with `missed` (its latest missed
    deadline while the case is flagged), `next_deadline` and `open_round`
    (turnout only). Five queries whatever the number of cases."""
    from commission.models import Ballot

    columns = _sel.board(user)
    open_rounds = [c.open_rounds[0] for col in columns for c in col["cases"] if c.open_rounds]
    # Turnout of every open round at once (never the choices: the round is open).
    cast = dict(Ballot.objects.filter(round__in=open_rounds, superseded=False).order_by()
                .values("round_id").annotate(n=Count("id")).values_list("round_id", "n")) if open_rounds else {}
    for col in columns:
        for c in col["cases"]:
            c.missed = c.missed_deadlines[0] if (c.flagged and c.missed_deadlines) else None
            c.next_deadline = c.open_deadlines[0] if c.open_deadlines else None
            rnd = c.open_rounds[0] if c.open_rounds else None
            c.open_round = {"ballots_cast": cast.get(rnd.pk, 0), "eligible_count": rnd.eligible_count} if rnd else None
    return columns
