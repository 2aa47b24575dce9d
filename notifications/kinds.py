"""What each kind of notification says, in words rendered when it is read or
sent, in the reader's language (never stored in English).

A notification stores its `kind` and `params` (plain JSON: case reference,
title, due time, party code...); `render` turns them into a subject and a
body with gettext in the active language. The web page and the API render
in the request's language; the mailer renders inside
translation.override(recipient's language).

Email defaults (what a person gets without a preference of their own):
kinds that ask the reader to act (vote, reply, decide, answer a question,
a missed deadline) are emailed at once; kinds that only inform (a round's
result, a measure decided, a case closed) go into the daily digest.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.roles import ALL_ROLES, AUDITOR, CHAIR, MEMBER, MONITOR, PARTY_REPRESENTATIVE, VERIFIER

IMMEDIATE = "immediate"
DIGEST = "digest"
OFF = "off"
EMAIL_MODES = (IMMEDIATE, DIGEST, OFF)


@dataclass(frozen=True)
class Kind:
    label: object  # lazy text: the kind's name on the preferences page
    subject: object  # lazy text with %(name)s placeholders filled from params
    body: object
    email: str  # the default email mode
    act: bool  # True: the reader has something to do
    roles: tuple = ALL_ROLES  # who may receive it (the settings page lists only those kinds)


KINDS: dict[str, Kind] = {
    "report_returned": Kind(
        gettext_lazy("A report of yours returned for more information"),
        gettext_lazy("%(reference)s was returned to you for more information"),
        gettext_lazy("%(by)s asks: %(reason)s\n\nEdit the report and submit it again."),
        IMMEDIATE, True, (MONITOR,)),
    "report_resubmitted": Kind(
        gettext_lazy("A report you asked about submitted again"),
        gettext_lazy("%(reference)s was submitted again by its monitor"),
        gettext_lazy("Your question: %(question)s"),
        IMMEDIATE, True, (VERIFIER, CHAIR)),
    "reply_requested": Kind(
        gettext_lazy("Your party may reply to a case"),
        gettext_lazy("%(case)s: %(party)s may reply by %(due_at)s"),
        gettext_lazy("%(title)s: the case names %(party_name)s. Its findings and the reports' facts are open "
                     "to you; you may submit one reply (text and files) until %(due_at)s."),
        IMMEDIATE, True, (PARTY_REPRESENTATIVE,)),
    "replies_complete": Kind(
        gettext_lazy("Every party called has replied"),
        gettext_lazy("%(case)s: every party called has replied"),
        gettext_lazy("%(title)s: the reply window is closed; a round may open."),
        IMMEDIATE, True, (CHAIR,)),
    "reply_window_ended": Kind(
        gettext_lazy("A reply window has ended"),
        gettext_lazy("%(case)s: the reply window has ended"),
        gettext_lazy("%(title)s: a round may open. No reply from: %(waiting)s."),
        IMMEDIATE, True, (CHAIR,)),
    "round_opened": Kind(
        gettext_lazy("A voting round opened for you"),
        gettext_lazy("%(case)s: round %(number)s is open, vote by %(closes_at)s"),
        gettext_lazy("%(title)s: you are one of the round's voters. Cast your sealed ballot before %(closes_at)s."),
        IMMEDIATE, True, (MEMBER,)),
    "deadline_reminder": Kind(
        gettext_lazy("A deadline of yours is coming"),
        gettext_lazy("%(case)s: %(what)s due %(due_at)s"),
        gettext_lazy("%(title)s: the %(what)s deadline is coming (%(due_at)s)."),
        IMMEDIATE, True, (VERIFIER, MEMBER, CHAIR, PARTY_REPRESENTATIVE)),
    "round_closed": Kind(
        gettext_lazy("A voting round closed"),
        gettext_lazy("%(case)s: round %(number)s closed: %(outcome)s"),
        gettext_lazy("%(title)s: round %(number)s closed (%(because)s). Result: %(outcome)s."),
        DIGEST, False, (MEMBER, CHAIR)),
    "round_escalated": Kind(
        gettext_lazy("A round did not decide"),
        gettext_lazy("%(case)s: round %(number)s ended in %(outcome)s"),
        gettext_lazy("The vote did not decide. You may open a new round."),
        IMMEDIATE, True, (CHAIR,)),
    "round_held": Kind(
        gettext_lazy("A round held: ballots altered"),
        gettext_lazy("%(case)s: round %(number)s held, ballots altered"),
        gettext_lazy("Stored ballots do not match their commitments in the trail. Nothing was counted."),
        IMMEDIATE, True, (CHAIR, AUDITOR)),
    "measure_proposed": Kind(
        gettext_lazy("A measure proposed"),
        gettext_lazy("%(case)s: a measure proposed for %(addressee)s"),
        gettext_lazy("%(title)s: %(proposer)s proposes a measure addressed to %(addressee)s "
                     "(%(measure_kind)s). Adopt or reject it."),
        IMMEDIATE, True, (CHAIR,)),
    "measure_adopted": Kind(
        gettext_lazy("A measure adopted"),
        gettext_lazy("%(case)s: a measure addressed to %(addressee)s was adopted"),
        gettext_lazy("%(title)s: the chair adopted a measure addressed to %(addressee)s (%(measure_kind)s). %(due)s"),
        DIGEST, False, ALL_ROLES),
    "measure_rejected": Kind(
        gettext_lazy("A measure rejected"),
        gettext_lazy("%(case)s: a measure addressed to %(addressee)s was rejected"),
        gettext_lazy("%(title)s: the chair rejected a measure addressed to %(addressee)s (%(measure_kind)s)."),
        DIGEST, False, ALL_ROLES),
    "deadline_missed": Kind(
        gettext_lazy("A deadline missed"),
        gettext_lazy("%(case)s: %(what)s deadline missed"),
        gettext_lazy("The %(what)s deadline of %(case)s (%(title)s) passed at %(due_at)s."),
        IMMEDIATE, True, (CHAIR,)),
    "case_closed": Kind(
        gettext_lazy("A case closed"),
        gettext_lazy("%(case)s: closed, %(outcome)s"),
        gettext_lazy("%(title)s was closed. Outcome: %(outcome)s."),
        DIGEST, False, (CHAIR, MEMBER, VERIFIER)),
    "comment_reply": Kind(
        gettext_lazy("A reply to your comment in a case's discussion"),
        gettext_lazy("%(case)s: %(author)s replied to your comment"),
        gettext_lazy("%(title)s: %(excerpt)s"),
        IMMEDIATE, False, (CHAIR, MEMBER, VERIFIER)),
    "comment_mention": Kind(
        gettext_lazy("A mention of you in a case's discussion"),
        gettext_lazy("%(case)s: %(author)s mentioned you in the discussion"),
        gettext_lazy("%(title)s: %(excerpt)s"),
        IMMEDIATE, True, (CHAIR, MEMBER, VERIFIER, AUDITOR)),
}


def _deadline_kind(value: str) -> str:
    names = {
        "verification": pgettext_lazy("deadline", "verification"),
        "vote": pgettext_lazy("deadline", "vote"),
        "measures": pgettext_lazy("deadline", "measures"),
        "compliance": pgettext_lazy("deadline", "compliance"),
        "reply": pgettext_lazy("deadline", "reply"),
    }
    return str(names.get(value, value))


def _outcome(value: str) -> str:
    # The same words as the pages' labels (web.labels), so already translated.
    names = {
        "undetermined": _("Undetermined"),
        "tie": _("Tie"),
        "no_quorum": _("No quorum"),
        "decided": _("decided"),
        "unresolved": _("unresolved"),
        "not_confirmed": _("Not confirmed (insufficient evidence)"),
        "unfounded": _("Unfounded"),
    }
    return names.get(value) or _("attributed to %(party)s") % {"party": value}


def _measure_kind(value: str) -> str:
    return {"diplomatic_action": _("Diplomatic action"), "sanctions": _("Sanctions"),
            "intelligence": _("Intelligence reinforcement"), "military_reassurance": _("Military reassurance"),
            "remedial_demand": _("Remedial demand")}.get(value, value)


def _because(value: str) -> str:
    return {"all_voted": _("everyone voted"), "deadline": _("its closing time passed")}.get(value, value)


def _when(value) -> str:
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M") + " UTC"


def _words(params: dict) -> dict:
    """params as the texts use them: times and names in words of the active language."""
    words = {k: ("" if v is None else v) for k, v in params.items()}
    for key in ("due_at", "closes_at"):
        if key in params:
            words[key] = _when(params[key])
    if "what" in params:
        words["what"] = _deadline_kind(params["what"])
    if "outcome" in params:
        words["outcome"] = _outcome(params["outcome"])
    if "because" in params:
        words["because"] = _because(params["because"])
    if "waiting" in params:
        words["waiting"] = ", ".join(params["waiting"]) or "—"
    if "measure_kind" in params:
        words["measure_kind"] = _measure_kind(params["measure_kind"])
    if "compliance_due_at" in params:
        words["due"] = (_("Compliance is due by %(when)s.") % {"when": _when(params["compliance_due_at"])}
                        if params["compliance_due_at"] else "")
    return words


class _Lenient(dict):
    """A placeholder missing from old params renders as a dash, not an error."""

    def __missing__(self, key):
        return "—"


def render(notification) -> tuple[str, str]:
    """(subject, body) in the active language. Rows stored before params
    existed (params NULL) or of a kind no longer known keep their stored text."""
    kind = KINDS.get(notification.kind)
    if notification.params is None or kind is None:
        return notification.subject or notification.kind, notification.body
    words = _Lenient(_words(notification.params))
    words.setdefault("case", notification.case_reference or "—")
    return str(kind.subject) % words, str(kind.body) % words


def default_email(kind: str) -> str:
    known = KINDS.get(kind)
    return known.email if known else IMMEDIATE
