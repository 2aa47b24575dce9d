"""What the commission API takes and shows.

Input serializers check the shape of a request (types, choices, required
fields); the rules (who, which stage, which report) stay in
commission.services. Output serializers declare the fields for the OpenAPI
schema and turn model rows (or the dicts of commission.selectors) into JSON.
A ballot's choice leaves through `my_ballot` (built from selectors.ballot_own
for the requesting voter) and, once the round is closed only, the result's
`ballots` (selectors.round_revealed_ballots).
"""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from accounts.serializers import PartyCodeChoiceField
from commission import services
from commission.models import (
    Compliance,
    DeadlineKind,
    DeadlineStatus,
    MeasureKind,
    MeasureStatus,
    RoundStatus,
    Stage,
    Threshold,
    VerificationOutcome,
)
from commission.tally import ABSTAIN, UNDETERMINED
from config.api import StrictCharField, drf_datetime


class NamedChoiceField(serializers.ChoiceField):
    """A choice field whose choice set is its own named schema component
    (RoundStatus, DeadlineKind, ...). drf-spectacular names enums after the
    field, and "status"/"kind" mean different sets on different objects."""

    def __init__(self, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(**kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def get_name(self):
        return self.target.enum_name

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "enum": list(self.target.choices)}


# --- Input ------------------------------------------------------------------------


def _text(**kwargs):
    return StrictCharField(max_length=services.TEXT_MAX, **kwargs)


class CaseOpenSerializer(serializers.Serializer):
    title = StrictCharField(max_length=services.TITLE_MAX)
    reports = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, min_length=1,
                                    max_length=services.MAX_REPORTS_PER_REQUEST,
                                    help_text="ids of submitted reports not in another case")


class ReportLinkSerializer(serializers.Serializer):
    reports = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, min_length=1,
                                    max_length=services.MAX_REPORTS_PER_REQUEST)


class ReasonSerializer(serializers.Serializer):
    reason = _text()


class VerificationInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=VerificationOutcome.choices,
                                      help_text="confirmed moves the case to attribution; the others close it")
    findings = _text()


class RoundOpenSerializer(serializers.Serializer):
    closes_at = serializers.DateTimeField(required=False, allow_null=True,
                                          help_text="in the future; default now + DEADLINE_VOTE")
    quorum = serializers.DecimalField(max_digits=4, decimal_places=3, required=False, default="0.5",
                                      help_text="share of eligible voters who must vote, in (0, 1]; default 0.5")
    threshold = serializers.ChoiceField(choices=Threshold.choices, required=False, default=Threshold.SIMPLE)
    override_reason = _text(required=False, allow_blank=True, default="",
                            help_text="required while the parties' reply window holds the round back (open, and "
                                      "a called party has not replied): 409 without it; recorded in the trail")


class BallotInputSerializer(serializers.Serializer):
    choice = PartyCodeChoiceField(extra=(UNDETERMINED, ABSTAIN), help_text="a party code (RU, UA), undetermined or abstain")
    rationale = _text()


class MeasureProposeSerializer(serializers.Serializer):
    kind = NamedChoiceField(choices=MeasureKind.choices, enum_name="MeasureKind")
    addressee = PartyCodeChoiceField(help_text="a party code")
    description = _text()
    compliance_due_at = serializers.DateTimeField(required=False, allow_null=True,
                                                  help_text="in the future; followed once the measure is adopted")


class ComplianceInputSerializer(serializers.Serializer):
    compliance = serializers.ChoiceField(choices=[Compliance.COMPLIED, Compliance.NOT_COMPLIED])
    note = _text()


CONFIRM_NEEDED = "Send \"confirm\": true: this cannot be undone (GET the same URL first to see what it will do)."


def _confirm_field():
    # An irreversible action is taken only when the request says so in so
    # many words: a client cannot close a case or decide a measure by
    # replaying a form it did not mean to send.
    return serializers.BooleanField(
        required=True, error_messages={"required": CONFIRM_NEEDED},
        help_text="must be true: the action cannot be undone (GET the same URL for what it will do)")


class _ConfirmMixin:
    def validate_confirm(self, value):
        if value is not True:
            raise serializers.ValidationError(CONFIRM_NEEDED)
        return value


class CaseCloseSerializer(_ConfirmMixin, serializers.Serializer):
    summary = _text(help_text="public summary of the case")
    confirm = _confirm_field()


class MeasureDecisionSerializer(_ConfirmMixin, serializers.Serializer):
    reason = _text()
    confirm = _confirm_field()


class _DeadlineBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = NamedChoiceField(choices=DeadlineKind.choices, enum_name="DeadlineKind")
    due_at = serializers.DateTimeField()
    status = NamedChoiceField(choices=DeadlineStatus.choices, enum_name="DeadlineStatus")


class _MeasureBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = NamedChoiceField(choices=MeasureKind.choices, enum_name="MeasureKind")
    addressee = StrictCharField(source="addressee.code", help_text="party code")
    compliance_due_at = serializers.DateTimeField(allow_null=True)


class CaseClosePreviewSerializer(serializers.Serializer):
    case = StrictCharField(help_text="the case's reference")
    stage = serializers.ChoiceField(choices=Stage.choices, help_text="its stage now")
    outcome = StrictCharField(help_text="the outcome the close records: decided, or unresolved after a round "
                                        "that did not decide")
    allowed = serializers.BooleanField(help_text="whether the close would be accepted now")
    refusal = StrictCharField(allow_null=True, help_text="why not, when it would not")
    deadlines_settled = _DeadlineBriefSerializer(many=True, help_text="the stage deadlines the close marks met")
    measures_followed = _MeasureBriefSerializer(
        many=True, help_text="adopted measures whose compliance is still followed after the close")
    irreversible = serializers.BooleanField(help_text="always true: a closed case is not reopened")


class MeasureDecisionPreviewSerializer(serializers.Serializer):
    measure = serializers.IntegerField()
    case = StrictCharField(help_text="the case's reference")
    status = NamedChoiceField(choices=MeasureStatus.choices, enum_name="MeasureStatus",
                              help_text="the status the decision records")
    allowed = serializers.BooleanField(help_text="whether the decision would be accepted now")
    refusal = StrictCharField(allow_null=True, help_text="why not, when it would not")
    compliance_due_at = serializers.DateTimeField(
        allow_null=True, help_text="adopting: compliance is followed, with a deadline at this time when set")
    others_pending = serializers.IntegerField(help_text="other proposed measures still to decide on the case")
    irreversible = serializers.BooleanField(help_text="always true: a decided measure is not decided again")


class DeadlineFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeadlineStatus.choices, required=False)
    case = serializers.IntegerField(required=False, min_value=1, help_text="case id")
    kind = serializers.ChoiceField(choices=DeadlineKind.choices, required=False)
    due_before = serializers.DateTimeField(required=False)


class DeadlineExtendSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField(help_text="later than the current due time, in the future")
    reason = _text()


class ReportReturnSerializer(serializers.Serializer):
    reason = StrictCharField(help_text="the question for the monitor: what to add or correct")


# --- Output -----------------------------------------------------------------------
# Each output serializer's declared fields are both its JSON and its schema:
# values come from the model rows (or the read dicts of commission.selectors)
# through `source`, never from a dict built on the side.


class ReportRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = StrictCharField()


class LinkSerializer(serializers.Serializer):
    report = ReportRefSerializer()
    linked_by = StrictCharField(source="linked_by.username")
    linked_at = serializers.DateTimeField()
    detached = serializers.SerializerMethodField()
    detached_by = StrictCharField(source="detached_by.username", allow_null=True)
    detached_at = serializers.DateTimeField(allow_null=True)
    detach_reason = StrictCharField(help_text="why the report was detached; empty for a live link")

    def get_detached(self, link) -> bool:
        return link.detached_at is not None


class VerificationSerializer(serializers.Serializer):
    """The findings, from the case's own fields."""

    outcome = serializers.ChoiceField(source="verification_outcome", choices=VerificationOutcome.choices)
    findings = StrictCharField()
    by = StrictCharField(source="verified_by.username", allow_null=True)
    at = serializers.DateTimeField(source="verified_at", allow_null=True)


class RevealedBallotSerializer(serializers.Serializer):
    voter = StrictCharField(help_text="the member's username")
    voter_name = StrictCharField(help_text="the member's full name, or their username")
    choice = StrictCharField(help_text="a party code, undetermined or abstain")
    choice_name = StrictCharField(help_text="the party's name, or the choice in words (in the request's language)")
    rationale = StrictCharField()
    cast_at = serializers.DateTimeField()


class ResultSerializer(serializers.Serializer):
    outcome = StrictCharField(help_text="a party code, undetermined, tie or no_quorum")
    outcome_name = StrictCharField(help_text='the outcome in words: the party\'s name (e.g. "Russian Federation"), '
                                             "or undetermined, tie, no quorum in the request's language")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="ballots per choice")
    closed_because = serializers.ChoiceField(
        choices=[("all_voted", "all_voted"), ("deadline", "deadline"), ("no_quorum", "no_quorum")],
        help_text="all_voted: closed early, every eligible member had voted; deadline: closed at its closing "
                  "time with quorum; no_quorum: closed at its closing time without quorum")
    quorum_needed = serializers.IntegerField(
        help_text="how many eligible members had to vote (the round's quorum fraction of eligible_count, "
                  "rounded up); compare with the round's ballots_cast")
    ballots = RevealedBallotSerializer(many=True, help_text="each counted member's final ballot with its "
                                                            "rationale, revealed at the close")


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    author = StrictCharField(source="author.username")
    author_name = serializers.SerializerMethodField()
    body = StrictCharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True,
                                      help_text="the comment this one replies to; null for a new thread")
    parent_author = StrictCharField(source="parent.author.username", allow_null=True, default=None)
    mentions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_author_name(self, comment) -> str:
        return comment.author.get_full_name() or comment.author.username

    def get_mentions(self, comment) -> list[str]:
        return sorted(u.username for u in comment.mentions.all())


class CommentInputSerializer(serializers.Serializer):
    body = StrictCharField(max_length=services.COMMENT_MAX, trim_whitespace=True,
                           help_text="the comment; @username tells a reader of the case")
    parent = serializers.IntegerField(required=False, allow_null=True, default=None,
                                      help_text="id of the comment of this case to reply to")


class RoundPublicSerializer(serializers.Serializer):
    """A round as everyone who reads the case sees it: turnout while open,
    the result only once closed (the dict of commission.selectors.round_public)."""

    id = serializers.IntegerField()
    case = serializers.IntegerField()
    number = serializers.IntegerField()
    status = NamedChoiceField(choices=RoundStatus.choices, enum_name="RoundStatus")
    opened_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    quorum = serializers.DecimalField(max_digits=4, decimal_places=3, coerce_to_string=False,
                                      help_text="the share of eligible members who must vote, as a fraction in "
                                                "(0, 1] (0.5 = 50 %)")
    threshold = serializers.ChoiceField(choices=Threshold.choices)
    eligible_count = serializers.IntegerField()
    ballots_cast = serializers.IntegerField(help_text="turnout only; never the choices while open")
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_because = StrictCharField(allow_null=True, help_text="deadline or all_voted")
    result = ResultSerializer(allow_null=True, help_text="null until the round is closed")


class OwnBallotSerializer(serializers.Serializer):
    choice = StrictCharField()
    rationale = StrictCharField()
    cast_at = serializers.DateTimeField()
    commitment = StrictCharField(help_text="sha256 of salt, choice and rationale: what the trail holds")


class RoundSerializer(RoundPublicSerializer):
    """The public round, plus what concerns the requester alone (the dict of
    commission.selectors.round_for)."""

    my_ballot = OwnBallotSerializer(allow_null=True, help_text="your own current ballot; null if none")
    eligible = serializers.BooleanField(help_text="whether you may vote in this round")
    recused_reason = StrictCharField(allow_null=True, help_text="why you may not vote, for a member")


class MeasureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    kind = NamedChoiceField(choices=MeasureKind.choices, enum_name="MeasureKind")
    addressee = StrictCharField(source="addressee.code", help_text="party code")
    description = StrictCharField()
    compliance_due_at = serializers.DateTimeField(allow_null=True)
    status = NamedChoiceField(choices=MeasureStatus.choices, enum_name="MeasureStatus")
    compliance = StrictCharField(help_text="empty until adopted; then pending, complied, not_complied or overdue")
    compliance_note = StrictCharField()
    compliance_recorded_at = serializers.DateTimeField(allow_null=True)
    proposed_by = StrictCharField(source="proposed_by.username")
    proposed_at = serializers.DateTimeField()
    decided_by = StrictCharField(source="decided_by.username", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = StrictCharField()


class DeadlineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    case_reference = StrictCharField(source="case.reference")
    kind = NamedChoiceField(choices=DeadlineKind.choices, enum_name="DeadlineKind")
    round = serializers.IntegerField(source="round_id", allow_null=True)
    measure = serializers.IntegerField(source="measure_id", allow_null=True)
    due_at = serializers.DateTimeField()
    status = NamedChoiceField(choices=DeadlineStatus.choices, enum_name="DeadlineStatus")
    settled_at = serializers.DateTimeField(allow_null=True, help_text="when it was met or missed")
    created_at = serializers.DateTimeField()
    paused_at = serializers.DateTimeField(allow_null=True,
                                          help_text='while status is "paused": since when; due_at moves by the time '
                                                    "paused when the chair resumes it")
    pause_reason = StrictCharField(help_text='while status is "paused": why (empty otherwise)')

    def to_representation(self, deadline):
        """What the declared fields give, written directly: a case list
        carries every deadline of every case, 250 a page in the measures
        stage, and DRF's field-by-field walk was most of that list's time
        (BENCHMARKS.md, "A deadline's representation"). The fields above
        stay the schema; tests/commission/test_deadline_representation.py
        holds this to DRF's own walk over them, value for value, in UTC and
        in another time zone."""
        zone = timezone.get_current_timezone()
        reference = deadline.case.reference
        return {
            "id": deadline.id, "case": deadline.case_id,
            "case_reference": None if reference is None else str(reference), "kind": deadline.kind,
            "round": deadline.round_id, "measure": deadline.measure_id, "due_at": drf_datetime(deadline.due_at, zone),
            "status": deadline.status, "settled_at": drf_datetime(deadline.settled_at, zone),
            "created_at": drf_datetime(deadline.created_at, zone), "paused_at": drf_datetime(deadline.paused_at, zone),
            "pause_reason": deadline.pause_reason,
        }


class ConflictSerializer(serializers.Serializer):
    case = serializers.IntegerField(source="case_id")
    member = StrictCharField(source="member.username")
    reason = StrictCharField()
    declared_at = serializers.DateTimeField()


class CaseSummarySerializer(serializers.Serializer):
    """A case in a list (its deadlines prefetched: selectors.case_list_with_deadlines_for)."""

    id = serializers.IntegerField()
    reference = StrictCharField(help_text="e.g. CASE-2026-000001")
    title = StrictCharField()
    stage = serializers.ChoiceField(choices=Stage.choices)
    flagged = serializers.BooleanField(help_text="a deadline was missed, or a round ended without a decision")
    report_count = serializers.IntegerField(help_text="reports linked now")
    attributed_party = StrictCharField(source="attributed_party.code", allow_null=True)
    outcome = StrictCharField()
    opened_by = StrictCharField(source="opened_by.username")
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    deadlines = DeadlineSerializer(source="deadlines.all", many=True)


class AllowedActionsSerializer(serializers.Serializer):
    """What the caller may do next: the same predicates the services check
    before they refuse (commission.selectors.case_actions)."""

    case = serializers.ListField(child=serializers.ChoiceField(choices=[
        "link_reports", "detach_report", "record_verification", "declare_conflict", "open_round", "cast_ballot",
        "propose_measure", "close", "post_comment"]))
    measures = serializers.DictField(child=serializers.ListField(
        child=serializers.ChoiceField(choices=["decide", "record_compliance"])), help_text="by measure id")
    deadlines = serializers.DictField(child=serializers.ListField(
        child=serializers.ChoiceField(choices=["extend", "pause", "resume"])), help_text="by deadline id")


class CaseDetailSerializer(serializers.Serializer):
    """A case with everything about it: the dict of
    commission.selectors.case_detail (the case and its related lists)."""

    id = serializers.IntegerField(source="case.id")
    reference = StrictCharField(source="case.reference")
    title = StrictCharField(source="case.title")
    stage = serializers.ChoiceField(source="case.stage", choices=Stage.choices)
    flagged = serializers.BooleanField(source="case.flagged")
    opened_by = StrictCharField(source="case.opened_by.username")
    verifier = StrictCharField(source="case.verifier.username", allow_null=True,
                                     help_text="who has to record the findings")
    reports = ReportRefSerializer(many=True, help_text="reports linked now")
    links = LinkSerializer(many=True, help_text="every link, detached ones included (who, when, why)")
    verification = VerificationSerializer(allow_null=True, help_text="null until recorded")
    rounds = RoundPublicSerializer(many=True)
    measures = MeasureSerializer(many=True)
    deadlines = DeadlineSerializer(many=True)
    conflicts = ConflictSerializer(many=True, help_text="members' declared conflicts of interest")
    allowed_actions = AllowedActionsSerializer(help_text="what the caller may do next (the services' own checks)")
    attributed_party = StrictCharField(source="case.attributed_party.code", allow_null=True)
    outcome = StrictCharField(source="case.outcome",
                                    help_text="why it closed: a verification outcome, undetermined, or decided")
    summary = StrictCharField(source="case.summary")
    summary_public = serializers.BooleanField(source="case.summary_public",
                                              help_text="the chair made the summary public (bulletins print it)")
    created_at = serializers.DateTimeField(source="case.created_at")
    closed_at = serializers.DateTimeField(source="case.closed_at", allow_null=True)


class SummaryPublicSerializer(serializers.Serializer):
    public = serializers.BooleanField(default=True, help_text="false withdraws the mark (published bulletins keep it)")


# Imported last: they use the serializers above.
from commission.serializers.bulletins import (  # noqa: E402
    BulletinCasesSerializer,
    BulletinContentSerializer,
    BulletinMeasuresSerializer,
    BulletinPeriodSerializer,
    BulletinReportsSerializer,
    BulletinSerializer,
    CategoryCountSerializer,
    CellCountSerializer,
    ComplianceCountSerializer,
    DayCountSerializer,
    KindCountSerializer,
    OutcomeCountSerializer,
    PartyCountSerializer,
    PublicSummarySerializer,
    RegionCountSerializer,
    TreeHeadField,
)
from commission.serializers.replies import (  # noqa: E402
    FactsReportSerializer,
    HearingCaseSerializer,
    HearingSerializer,
    ReplyEvidenceSerializer,
    ReplyInputSerializer,
    ReplyPartySerializer,
    ReplySerializer,
    ReplyTextSerializer,
    ReplyWindowSerializer,
)

__all__ = [
    "BulletinCasesSerializer",
    "BulletinContentSerializer",
    "BulletinMeasuresSerializer",
    "BulletinPeriodSerializer",
    "BulletinReportsSerializer",
    "BulletinSerializer",
    "CategoryCountSerializer",
    "CellCountSerializer",
    "ComplianceCountSerializer",
    "DayCountSerializer",
    "FactsReportSerializer",
    "HearingCaseSerializer",
    "HearingSerializer",
    "KindCountSerializer",
    "OutcomeCountSerializer",
    "PartyCountSerializer",
    "PublicSummarySerializer",
    "RegionCountSerializer",
    "ReplyEvidenceSerializer",
    "ReplyInputSerializer",
    "ReplyPartySerializer",
    "ReplySerializer",
    "ReplyTextSerializer",
    "ReplyWindowSerializer",
    "TreeHeadField",
]
