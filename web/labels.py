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
