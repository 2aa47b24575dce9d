"""Pages of the commission's workflow: cases, the member's ballot, the
chair's board (the verifier's inbox is web.inbox_pages). Reads go through
commission.selectors, every change through ONE commission service (the
API's), called with the signed-in person as actor; the service decides what
is allowed and its refusal is shown on the form (the case page's forms post
to web.case_posts). web/commission_reads.py shapes the reads for the
templates."""

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.forms import Select
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Party
from accounts.roles import AUDITOR, CHAIR, MEMBER, PARTY_REPRESENTATIVE, VERIFIER, has_role
from audit.permissions import can_read_trail
from commission import selectors as commission_selectors
from commission.filters import CaseFilter
from reports import selectors as report_selectors
from web import commission_reads as reads
from web import forms as f
from web.access import role_required, trail_reader_required
from web.labels import label
from web.paging import keyset_page

COMMISSION_READERS = (VERIFIER, CHAIR, MEMBER, AUDITOR)
HOME_COUNT_CAP = 100


# --- Helpers used by other pages ----------------------------------------------


def home_context(user) -> dict:
    ctx = {}
    if has_role(user, VERIFIER, CHAIR):
        # Counted up to a bound: "more than 99" says as much as the exact
        # number would, and stops after 100 rows instead of reading a million.
        ctx["inbox_count"] = reads.inbox_count(user, cap=HOME_COUNT_CAP)
        ctx["inbox_more"] = ctx["inbox_count"] >= HOME_COUNT_CAP
        ctx["inbox_cap"] = HOME_COUNT_CAP - 1
    if has_role(user, MEMBER):
        ctx["awaiting_ballot"] = reads.rounds_awaiting_ballot(user)
    if has_role(user, CHAIR):
        ctx["awaiting_round"] = reads.cases_awaiting_round(user)
        ctx["awaiting_decision"] = reads.measures_awaiting_decision(user)
    if has_role(user, VERIFIER, CHAIR, MEMBER):
        deadlines = reads.deadlines_for(user)
        ctx["missed_deadlines"] = [d for d in deadlines if d.status == "missed"][:10]
        ctx["coming_deadlines"] = [d for d in deadlines if d.status in ("pending", "extended", "paused")][:10]
    if has_role(user, PARTY_REPRESENTATIVE):
        ctx["awaiting_reply"] = commission_selectors.cases_awaiting_reply(user)
        ctx["my_hearings"] = list(commission_selectors.case_list_for_representative(user)[:20])
    ctx["notifications"] = reads.notifications_for(user, limit=10)
    return ctx


def case_of_report(user, report):
    if not has_role(user, *COMMISSION_READERS):
        return None
    case = reads.case_of_report(report)
    if case is None:
        return None
    return {"reference": case.reference, "stage": case.stage, "url": reverse("web:case_detail", args=[case.pk])}


def decision_times() -> list[dict]:
    # The whole history in one aggregate over every verified case (0.14 s at
    # 100,000 cases, on every view of the overview: most of its time at 8
    # readers): kept OVERVIEW_CACHE_SECONDS, for medians over months that a
    # minute does not move. 0: computed on every view.
    if settings.OVERVIEW_CACHE_SECONDS:
        summary = cache.get_or_set("overview:stage-duration-summary", reads.stage_duration_summary,
                                   settings.OVERVIEW_CACHE_SECONDS)
    else:
        summary = reads.stage_duration_summary()
    rows = []
    for stage, (count, median, longest) in summary.items():
        rows.append({"stage": label(stage), "count": count, "median": _human(median), "longest": _human(longest)})
    return rows


def _human(seconds: float) -> str:
    if seconds < 3600:
        return _("%(n)d min") % {"n": round(seconds / 60)}
    if seconds < 72 * 3600:
        return _("%(n).1f h") % {"n": seconds / 3600}
    return _("%(n).1f days") % {"n": seconds / 86400}


# --- Cases -----------------------------------------------------------------------


# What web/case_list.html shows of each case (and its link's pk).
CASE_LIST_COLUMNS = ("reference", "title", "stage", "flagged", "created_at")


@role_required(*COMMISSION_READERS)
def case_list(request):
    """Cases, filtered and searched with the API's own FilterSet
    (commission.filters.CaseFilter): a wrong value is said by its field, 400."""
    filters = CaseFilter(request.GET, queryset=commission_selectors.case_list_for(request.user))
    for field in filters.form.fields.values():
        field.help_text = ""  # the API's documentation, in English; the labels say enough on the page
    # The API takes any party code; the page offers the known ones.
    filters.form.fields["party"].widget = Select(choices=[("", _("Any"))] + [
        (p.code, f"{p.code} — {p.name}") for p in Party.objects.order_by("code")])
    for name in ("opened_after", "opened_before"):
        # A browser's date-time picker; its value ("2026-11-01T08:00") is ISO 8601, read in the reader's time zone.
        filters.form.fields[name].widget.input_type = "datetime-local"
    status = 200
    pager = {}
    if filters.is_valid():
        # Newest first by keyset, with or without a search: no count, no
        # offset. Only the columns the list shows: a search may read many
        # rows to fill a page, and carried the joins and the long texts
        # through each (BENCHMARKS.md).
        pager = keyset_page(request, filters.qs.select_related(None).only(*CASE_LIST_COLUMNS), ordering=("-id",))
        cases = pager["items"]
    else:
        cases, status = [], 400
    filtered = any(request.GET.get(name) for name in filters.form.fields)
    awaiting = []
    if has_role(request.user, MEMBER):
        for r in reads.rounds_awaiting_ballot(request.user):
            r.case.open_round = r
            awaiting.append(r.case)
    return render(request, "web/case_list.html", {"cases": cases, "awaiting": awaiting, "filter_form": filters.form,
                                                  "filtered": filtered, "pager": pager},
                  status=status)


def case_or_404(user, pk):
    case = commission_selectors.case_get_for(user, pk)
    if case is None:
        raise Http404
    return case


@role_required(*COMMISSION_READERS)
def case_detail(request, pk: int, forms: dict | None = None, status=200):
    case = case_or_404(request.user, pk)
    ctx = _case_context(request, case, forms or {})
    for key, form in (forms or {}).items():
        if form.errors and not _form_shown(ctx, key):
            # Posted from a page that is out of date: the case has moved on
            # and this form is no longer on it, so its errors would be seen
            # nowhere. Say the service's reason if it gave one, else what happened.
            for reason in getattr(form, "service_errors", None) or [
                    _("This form no longer applies: the case is now in the %(stage)s stage. "
                      "Nothing was changed.") % {"stage": label(case.stage)}]:
                messages.error(request, reason)
            status = 409
    return render(request, "web/case_detail.html", ctx, status=status)


# Which `can` flag puts each of the case page's forms on the page.
_FORM_FLAGS = {"link": "link", "detach": "detach", "verify": "verify", "round": "open_round", "ballot": "ballot",
               "conflict": "declare", "measure": "propose", "close": "close", "comment": "comment"}


def _form_shown(ctx: dict, key) -> bool:
    """Whether the case page shows the form `key` (the template's conditions,
    read from the same flags)."""
    if not isinstance(key, tuple):
        return bool(ctx["can"].get(_FORM_FLAGS[key]))
    name, pk = key
    if name == "detach":
        return bool(ctx["can"]["detach"]) and any(r.pk == pk for r in ctx["reports"])
    if name in ("extend", "pause", "resume"):
        return any(d["pk"] == pk and d[f"can_{name}"] for d in ctx["deadlines"])
    flag = {"decide": "can_decide", "comply": "can_comply"}[name]
    return any(m["pk"] == pk and m[flag] for m in ctx["measures"])


def form_auto_id(key) -> str:
    """Field ids per form of the case page: several forms there have a
    `reason` field (detach, decision, extension, conflict), and each label
    must point at its own field. ("extend", 7) -> id_extend7_reason."""
    if isinstance(key, tuple):
        key = f"{key[0]}{key[1]}"
    return f"id_{key}_%s"


def _case_context(request, case, bound: dict) -> dict:
    user = request.user
    parties = list(Party.objects.order_by("code"))
    now = timezone.now()
    is_member = has_role(user, MEMBER)

    deadlines = []
    case_deadlines = list(commission_selectors.case_deadlines(case))
    for d in case_deadlines:
        open_ = d.status in ("pending", "extended")
        deadlines.append({
            "pk": d.pk, "label": label(d.kind), "due_at": d.due_at, "status": d.status,
            "overdue": open_ and d.due_at < now,
            "form": bound.get(("extend", d.pk)) or f.DeadlineExtendForm(
                initial={"due_at": d.due_at}, auto_id=form_auto_id(("extend", d.pk))),
            "paused_at": d.paused_at, "pause_reason": d.pause_reason,
            "pause_form": bound.get(("pause", d.pk)) or f.DeadlinePauseForm(auto_id=form_auto_id(("pause", d.pk))),
            "resume_form": bound.get(("resume", d.pk)) or f.DeadlineResumeForm(
                auto_id=form_auto_id(("resume", d.pk))),
        })

    reports = list(reads.case_reports(case, user))
    for r in reports:
        r.evidence_items = report_selectors.evidence_shown_to(user, r)
        r.detach_form = bound.get(("detach", r.pk)) or f.DetachReportForm(initial={"report": r.pk},
                                                                              auto_id=form_auto_id(("detach", r.pk)))

    rounds = reads.case_rounds(case, user)
    open_round = next((rd for rd in rounds if rd["status"] == "open"), None)
    recusal = reads.recusal_reason(case, user, open_round) if (open_round and is_member) else None
    my_ballot = reads.my_ballot(open_round, user) if (open_round and is_member and not recusal) else None
    ballot_initial = {"choice": my_ballot["choice"], "rationale": my_ballot["rationale"]} if my_ballot else None

    measures = reads.case_measures(case)
    for m in measures:
        m["decide_form"] = bound.get(("decide", m["pk"])) or f.MeasureDecisionForm(auto_id=form_auto_id(("decide", m["pk"])))
        m["compliance_form"] = bound.get(("comply", m["pk"])) or f.ComplianceForm(auto_id=form_auto_id(("comply", m["pk"])))

    # What the forms offer is what the services accept: the same predicates (commission.selectors.case_actions).
    actions = commission_selectors.case_actions(user, case, now=now)
    allowed = set(actions["case"])
    can = {
        "audit": can_read_trail(user),
        "link": "link_reports" in allowed,
        "detach": "detach_report" in allowed,
        "verify": "record_verification" in allowed,
        "open_round": "open_round" in allowed,
        "declare": "declare_conflict" in allowed,
        "propose": "propose_measure" in allowed,
        "close": "close" in allowed,
        "ballot": "cast_ballot" in allowed,
    }
    # The discussion: never for someone who also represents a party (commission.selectors.discussion).
    can["discuss"] = commission_selectors.can_read_discussion(user)
    can["comment"] = "post_comment" in allowed
    comments = list(commission_selectors.comment_list_for(user, case)) if can["discuss"] else []
    reply_to = _reply_to(request, comments, bound.get("comment"))
    for d in deadlines:
        d["can_extend"] = "extend" in actions["deadlines"].get(d["pk"], [])
        d["can_pause"] = "pause" in actions["deadlines"].get(d["pk"], [])
        d["can_resume"] = "resume" in actions["deadlines"].get(d["pk"], [])
    for m in measures:
        m["can_decide"] = "decide" in actions["measures"].get(m["pk"], [])
        m["can_comply"] = "record_compliance" in actions["measures"].get(m["pk"], [])
    # The parties' replies, shown above the round and the ballot form: members read them before voting.
    # With the deadlines and reports read above, not read again.
    window = commission_selectors.reply_window_among(case_deadlines)
    hearing = commission_selectors.hearing(case, user, now=now, reports=reports, window=window)
    return {
        "case": case, "deadlines": deadlines, "missed": any(d["status"] == "missed" for d in deadlines),
        "reports": reports, "verification": reads.case_verification(case),
        "rounds": rounds, "open_round": open_round, "recusal": recusal, "my_ballot": my_ballot,
        "hearing": hearing,
        # Why the chair's round needs an override reason now (None: it does not).
        "reply_hold": (commission_selectors.reply_window_refusal(case, now=now, window=window)
                       if can["open_round"] else None),
        "is_member": is_member, "measures": measures, "can": can,
        "link_form": bound.get("link") or f.LinkReportForm(auto_id=form_auto_id("link")),
        "verification_form": bound.get("verify") or f.VerificationForm(auto_id=form_auto_id("verify")),
        "round_form": bound.get("round") or f.RoundOpenForm(initial={"quorum": 50, "threshold": "simple"},
                                                            auto_id=form_auto_id("round")),
        "ballot_form": bound.get("ballot") or f.BallotForm(initial=ballot_initial, parties=parties,
                                                           auto_id=form_auto_id("ballot")),
        "conflict_form": bound.get("conflict") or f.ConflictForm(auto_id=form_auto_id("conflict")),
        "measure_form": bound.get("measure") or f.MeasureForm(parties=parties, auto_id=form_auto_id("measure")),
        "close_form": bound.get("close") or f.CaseCloseForm(auto_id=form_auto_id("close")),
        "comments": comments, "reply_to": reply_to,
        "comment_form": bound.get("comment") or f.CommentForm(initial={"parent": reply_to.pk if reply_to else None},
                                                              auto_id=form_auto_id("comment")),
    }


def _reply_to(request, comments: list, bound_form):
    """The comment the form answers: ?reply=<id> from a "Reply" link, or the
    parent of a posted form shown again with its errors."""
    wanted = request.GET.get("reply", "")
    if bound_form is not None and bound_form.is_bound:
        wanted = bound_form.data.get("parent", "")
    if not str(wanted).isdigit():
        return None
    return next((c for c in comments if c.pk == int(wanted)), None)


# --- Chair: the board --------------------------------------------------------------


@role_required(CHAIR)
def board(request):
    columns = reads.board(request.user)
    return render(request, "web/board.html", {"columns": columns})


# --- Auditor: a case's trail -----------------------------------------------------------


@trail_reader_required
def case_trail(request, pk: int):
    from audit import selectors as audit_selectors
    from web.audit_pages import filter_context, integrity_context, trail_filters, trail_page

    case = case_or_404(request.user, pk)
    filters, where = trail_filters(request)
    if where is None:
        return render(request, "web/message.html", {"title": _("Trail"), "text": _("These filters are not valid.")},
                      status=400)
    events = audit_selectors.event_list(refs=set(commission_selectors.case_object_refs(case)), **where)
    return render(request, "web/case_trail.html", {"case": case, **trail_page(request, events, newest_first=False),
                                                   **filter_context(filters), **integrity_context()})
