"""Translated display names for the codes the services store. Display only:
which codes exist is decided by the models, never here."""

from django.utils.translation import gettext_lazy as _

LABELS = {
    # report categories
    "shelling": _("Shelling"),
    "missile_strike": _("Missile strike"),
    "drone_strike": _("Drone strike"),
    "air_strike": _("Air strike"),
    "small_arms_fire": _("Small arms fire"),
    "ground_assault": _("Ground assault"),
    "mine_ied": _("Mine or IED"),
    "airspace_violation": _("Airspace violation"),
    "maritime_incident": _("Maritime incident"),
    "infrastructure_attack": _("Attack on infrastructure"),
    "heavy_weapons_movement": _("Heavy weapons movement"),
    "other": _("Other"),
    # source types
    "direct_observation": _("Direct observation"),
    "imagery": _("Imagery"),
    "uav": _("UAV"),
    "acoustic": _("Acoustic"),
    "third_party": _("Third party"),
    "open_source": _("Open source"),
    # report status
    "draft": _("Draft"),
    "submitted": _("Submitted"),
    "returned": _("Returned for more information"),
    # case stages and outcomes
    "verification": _("Verification"),
    "attribution": _("Attribution"),
    "measures": _("Measures"),
    "closed": _("Closed"),
    "held": _("Held"),
    "confirmed": _("Confirmed"),
    "not_confirmed": _("Not confirmed (insufficient evidence)"),
    "unfounded": _("Unfounded"),
    # rounds and ballots
    "open": _("Open"),
    "undetermined": _("Undetermined"),
    "abstain": _("Abstain"),
    "tie": _("Tie"),
    "no_quorum": _("No quorum"),
    "simple": _("Simple majority"),
    "two_thirds": _("Two-thirds majority"),
    # measures
    "diplomatic_action": _("Diplomatic action"),
    "sanctions": _("Sanctions"),
    "intelligence": _("Intelligence reinforcement"),
    "military_reassurance": _("Military reassurance"),
    "remedial_demand": _("Remedial demand"),
    "proposed": _("Proposed"),
    "adopted": _("Adopted"),
    "rejected": _("Rejected"),
    "pending": _("Pending"),
    "complied": _("Complied"),
    "not_complied": _("Not complied"),
    "overdue": _("Overdue"),
    # deadlines (their kinds, then their states)
    "vote": _("Vote"),
    "compliance": _("Compliance"),
    "reply": _("Reply window"),
    "met": _("Met"),
    "missed": _("Missed"),
    "extended": _("Extended"),
    "paused": _("Paused"),
    "cancelled": _("Cancelled"),
    # why a case closed (besides the verification outcomes and undetermined)
    "decided": _("Decided by the chair after measures"),
    "unresolved": _("Closed without a decision"),
}

BADGE = {
    "submitted": "info", "draft": "warn", "returned": "warn", "confirmed": "ok", "closed": "", "missed": "bad", "overdue": "bad",
    "adopted": "ok", "rejected": "bad", "complied": "ok", "not_complied": "bad", "met": "ok", "open": "info", "held": "bad",
    "verification": "info", "attribution": "warn", "measures": "warn", "pending": "", "extended": "warn", "paused": "warn",
}


def label(code) -> str:
    if code is None or code == "":
        return "—"
    return str(LABELS.get(str(code), code))


def choices(values) -> list[tuple[str, str]]:
    return [(v, LABELS.get(v, v)) for v in values]


# The trail's action ids in words. Every app above the trail writes events
# (audit_record(action=...)), but the trail knows no app, so their names in
# words live here, at the top of the stack, where they are shown.
# tests/web/test_trail_pages.py collects every action id the code can write
# and fails when one has no words here.
ACTION_LABELS = {
    # reports and their evidence
    "report.drafted": _("Report drafted"),
    "report.submitted": _("Report submitted"),
    "report.updated": _("Report updated"),
    "report.returned": _("Report returned to its monitor"),
    "report.resubmitted": _("Report resubmitted"),
    "evidence.uploaded": _("Evidence uploaded"),
    "evidence.downloaded": _("Evidence downloaded"),
    # cases
    "case.opened": _("Case opened"),
    "case.report_linked": _("Report linked to the case"),
    "case.report_detached": _("Report detached from the case"),
    "verification.recorded": _("Verification findings recorded"),
    "case.reply_window_opened": _("Reply window opened for the parties"),
    "case.reply_window_skipped": _("Reply window skipped"),
    "case.reply_submitted": _("Party's reply submitted"),
    "case.comment_posted": _("Comment posted in the discussion"),
    "reply_evidence.downloaded": _("Evidence of a reply downloaded"),
    "conflict.declared": _("Conflict of interest declared"),
    "case.attributed": _("Responsibility attributed"),
    "case.closed": _("Case closed"),
    "case.summary_public": _("Summary made public in the bulletin"),
    "case.summary_withdrawn": _("Summary withdrawn from the bulletin"),
    "bulletin.published": _("Public bulletin published"),
    # rounds and ballots
    "round.opened": _("Voting round opened"),
    "round.voter_recused": _("Member recused from the vote"),
    "ballot.cast": _("Sealed ballot cast"),
    "ballot.changed": _("Sealed ballot changed"),
    "round.tallied": _("Voting round closed and counted"),
    "round.held": _("Voting round held: a ballot did not match the trail"),
    # measures
    "measure.proposed": _("Measure proposed"),
    "measure.adopted": _("Measure adopted"),
    "measure.rejected": _("Measure rejected"),
    "measure.compliance_recorded": _("Compliance recorded"),
    "measure.overdue": _("Compliance overdue"),
    # deadlines
    "deadline.set": _("Deadline set"),
    "deadline.extended": _("Deadline extended"),
    "deadline.paused": _("Deadline paused"),
    "deadline.resumed": _("Deadline resumed"),
    "deadline.reminded": _("Deadline reminder sent"),
    "deadline.met": _("Deadline met"),
    "deadline.missed": _("Deadline missed"),
    # people, parties and sign-in
    "user.created": _("Account created"),
    "user.roles_changed": _("Roles changed"),
    "user.delegation_changed": _("Delegation changed"),
    "user.represents_changed": _("Represented party changed"),
    "user.flags_changed": _("Account status changed"),
    "party.created": _("Party added"),
    "party.delegation_changed": _("Party's delegation changed"),
    "signin.locked_out": _("Sign-in locked after failed attempts"),
    "two_factor.enrolled": _("Two-step sign-in turned on"),
    "two_factor.failed": _("Two-step sign-in code refused"),
    "two_factor.recovery_code_used": _("Recovery code used"),
    "token.issued": _("API token issued"),
    "token.revoked": _("API token revoked"),
    "tokens.revoked": _("All API tokens revoked"),
}


def action_label(code) -> str:
    """The action in words; an id without words (an event of an older
    version) shows as its id rather than disappearing."""
    return str(ACTION_LABELS.get(str(code), code))


def action_choices() -> list[tuple[str, str]]:
    """The trail filter's options, in words, sorted as the reader reads them."""
    return sorted(((code, str(text)) for code, text in ACTION_LABELS.items()), key=lambda c: c[1].casefold())
