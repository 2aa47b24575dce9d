"""The commission's workflow: cases, verification, sealed attribution rounds,
corrective measures and deadlines.

Rules live in commission/services.py; this module only says what is stored
and which invariants the database itself enforces (a report in at most one
case, one current ballot per voter).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

# What the full-text search reads (config.search; commission.selectors.case_search).
# Its GIN index lives in migration 0010_search only (PostgreSQL; see config.search.index_operations).
CASE_SEARCH_FIELDS = ("title", "findings", "summary")
# Their vector, kept by PostgreSQL in this column (migration 0014; not a model field: SQLite has none).
CASE_SEARCH_VECTOR = "search_vector"


class Stage(models.TextChoices):
    VERIFICATION = "verification"
    ATTRIBUTION = "attribution"
    MEASURES = "measures"
    CLOSED = "closed"


class VerificationOutcome(models.TextChoices):
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"
    UNFOUNDED = "unfounded"


class Case(models.Model):
    REFERENCE_PREFIX = "CASE"

    # Set in the same transaction as the insert, from the id (see case_open).
    reference = models.CharField(max_length=32, unique=True, null=True, blank=True)
    title = models.CharField(max_length=200)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.VERIFICATION)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Who has to record the findings (reminders go to them): the opener when a verifier.
    verifier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    stage_changed_at = models.DateTimeField(auto_now_add=True)

    verification_outcome = models.CharField(max_length=16, choices=VerificationOutcome.choices, blank=True,
                                            default="")
    findings = models.TextField(blank=True, default="")
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)

    attributed_party = models.ForeignKey("accounts.Party", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+")
    # Why the case closed: a verification outcome, "undetermined", or "decided" (by the chair after measures).
    outcome = models.CharField(max_length=16, blank=True, default="")
    summary = models.TextField(blank=True, default="")
    # The chair marked the closing summary public: only then does a bulletin
    # print it (commission.services.case_summary_publish); when, so that the
    # bulletin of that period carries it.
    summary_public_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    # A deadline of the case was missed, or a round ended without a decision.
    flagged = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["stage", "flagged"], name="case_stage_flag_idx"),
            # The case list's keyset pages by stage and of flagged cases, newest first.
            models.Index(fields=["stage", "-id"], name="case_stage_id_idx"),
            models.Index(fields=["-id"], condition=Q(flagged=True), name="case_flagged_id_idx"),
            # "Opened before": the highest id among the cases opened by then,
            # read from this index alone (commission.selectors.case_filter_opened).
            models.Index(fields=["created_at", "id"], name="case_created_id_idx"),
        ]

    def __str__(self) -> str:
        return self.reference or f"case {self.pk}"

    @property
    def summary_public(self) -> bool:
        return self.summary_public_at is not None

    def move_to(self, stage: str, *, now) -> None:
        """Enter `stage` now (the stage and the time it changed always move together)."""
        self.stage = stage
        self.stage_changed_at = now
        self.save(update_fields=["stage", "stage_changed_at"])

    def close(self, *, outcome: str, now, by=None, summary: str | None = None) -> None:
        """Close the case: nothing waits on its stages any more, so the flag goes too."""
        self.stage = Stage.CLOSED
        self.stage_changed_at = now
        self.outcome = outcome
        self.closed_at = now
        self.closed_by = by
        self.flagged = False
        fields = ["stage", "stage_changed_at", "outcome", "closed_at", "closed_by", "flagged"]
        if summary is not None:
            self.summary = summary
            fields.append("summary")
        self.save(update_fields=fields)

    def flag(self, flagged: bool = True) -> None:
        """Raise (or lower) the escalation flag; a no-op when it is already so."""
        if self.flagged != flagged:
            self.flagged = flagged
            self.save(update_fields=["flagged"])


class CaseReport(models.Model):
    """A report's link to a case. Detaching keeps the row (who, when, why);
    only the live link counts for "a report belongs to at most one case"."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="links")
    report = models.ForeignKey("reports.Report", on_delete=models.PROTECT, related_name="case_links")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(auto_now_add=True)
    detached_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    detached_at = models.DateTimeField(null=True, blank=True)
    detach_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            # Two verifiers racing to put one report in two cases: the second insert fails here.
            models.UniqueConstraint(fields=["report"], condition=Q(detached_at__isnull=True),
                                    name="report_in_one_live_case"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} in {self.case_id}"


class ConflictDeclaration(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="conflicts")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["case", "member"], name="one_conflict_per_member_case")]

    def __str__(self) -> str:
        return f"conflict of {self.member_id} on {self.case_id}"


class Threshold(models.TextChoices):
    SIMPLE = "simple"
    TWO_THIRDS = "two_thirds"


class RoundStatus(models.TextChoices):
    OPEN = "open"
    CLOSED = "closed"
    # Stopped without a result: a stored ballot no longer matched the
    # commitment the trail recorded when it was cast (round.held).
    HELD = "held"


class Round(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="rounds")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=8, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closes_at = models.DateTimeField()
    quorum = models.DecimalField(max_digits=4, decimal_places=3)
    threshold = models.CharField(max_length=16, choices=Threshold.choices)
    # Fixed at opening; lowered only when an eligible member recuses before voting.
    eligible_count = models.PositiveIntegerField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # "deadline" or "all_voted"
    closed_because = models.CharField(max_length=16, blank=True, default="")
    # Empty until the close: a party code, undetermined, tie or no_quorum.
    outcome = models.CharField(max_length=16, blank=True, default="")
    counts = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="round_number_per_case"),
            # At most one open round per case, even if two chairs click at once.
            models.UniqueConstraint(fields=["case"], condition=Q(status="open"), name="one_open_round_per_case"),
            models.CheckConstraint(condition=Q(quorum__gt=0, quorum__lte=1), name="round_quorum_range"),
        ]

    def __str__(self) -> str:
        return f"round {self.number} of case {self.case_id}"


class RoundVoter(models.Model):
    """The eligible voters, fixed when the round opens."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="voters")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Set when the member declared a conflict while the round was open (before voting).
    recused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["round", "member"], name="one_voter_row_per_round")]

    def __str__(self) -> str:
        return f"voter {self.member_id} in round {self.round_id}"


class Ballot(models.Model):
    """One row per ballot cast; a change supersedes the voter's current row
    with a new one (new salt, new commitment), so the tally can reveal every
    commitment the trail holds. Sealed: nothing outside commission.services'
    tally reads `choice` while the round is open."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="ballots")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # choice, rationale and salt, sealed with BALLOT_SEALING_KEY (commission/sealing.py).
    sealed = models.TextField()
    commitment = models.CharField(max_length=64)
    cast_at = models.DateTimeField(auto_now_add=True)
    superseded = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            # One current ballot per voter and round: a change can never count twice.
            models.UniqueConstraint(fields=["round", "voter"], condition=Q(superseded=False),
                                    name="one_current_ballot_per_voter"),
        ]

    def __str__(self) -> str:
        return f"ballot {self.pk} in round {self.round_id}"

    def content(self):
        """choice, rationale and salt (commission.sealing), or None when the
        sealed value does not open."""
        from commission.sealing import unseal

        return unseal(self.sealed)


class MeasureKind(models.TextChoices):
    DIPLOMATIC_ACTION = "diplomatic_action"
    SANCTIONS = "sanctions"
    INTELLIGENCE = "intelligence"
    MILITARY_REASSURANCE = "military_reassurance"
    REMEDIAL_DEMAND = "remedial_demand"


class MeasureStatus(models.TextChoices):
    PROPOSED = "proposed"
    ADOPTED = "adopted"
    REJECTED = "rejected"


class Compliance(models.TextChoices):
    PENDING = "pending"
    COMPLIED = "complied"
    NOT_COMPLIED = "not_complied"
    OVERDUE = "overdue"


class Measure(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="measures")
    kind = models.CharField(max_length=32, choices=MeasureKind.choices)
    addressee = models.ForeignKey("accounts.Party", on_delete=models.PROTECT, related_name="+")
    description = models.TextField()
    compliance_due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=MeasureStatus.choices, default=MeasureStatus.PROPOSED)
    # Followed only once adopted; empty before.
    compliance = models.CharField(max_length=16, choices=Compliance.choices, blank=True, default="")
    compliance_note = models.TextField(blank=True, default="")
    compliance_recorded_at = models.DateTimeField(null=True, blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            # The chair's home lists the measures awaiting a decision, oldest
            # first: a few among every measure the mission ever proposed
            # (92,000 decided at a million reports, 16 ms scanned per view).
            models.Index(fields=["proposed_at", "id"], condition=Q(status="proposed"), name="measure_proposed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.addressee_id}"


class DeadlineKind(models.TextChoices):
    VERIFICATION = "verification"
    VOTE = "vote"
    MEASURES = "measures"
    COMPLIANCE = "compliance"
    # The accused parties' reply window, opened when the case enters attribution.
    REPLY = "reply"


class DeadlineStatus(models.TextChoices):
    PENDING = "pending"
    MET = "met"
    MISSED = "missed"
    EXTENDED = "extended"
    # The chair stopped the clock (e.g. monitors denied access to the site):
    # neither the sweep nor the reminders look at it until it is resumed.
    PAUSED = "paused"


# Running clocks: what the sweep settles and reminds (and its partial indexes cover).
OPEN_DEADLINE = (DeadlineStatus.PENDING, DeadlineStatus.EXTENDED)
# Not yet met or missed: a paused deadline is still settled met when its stage
# ends in time, so whatever ends a stage looks at these.
UNSETTLED_DEADLINE = (*OPEN_DEADLINE, DeadlineStatus.PAUSED)


class Deadline(models.Model):
    """A stage's due time. The sweep (commission.services.deadlines_sweep)
    finds open ones that are due through the partial index below, so its cost
    follows the number due, not the number pending."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="deadlines")
    kind = models.CharField(max_length=16, choices=DeadlineKind.choices)
    round = models.OneToOneField(Round, on_delete=models.PROTECT, null=True, blank=True, related_name="deadline")
    measure = models.OneToOneField(Measure, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="deadline")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=DeadlineStatus.choices, default=DeadlineStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    # When it was met or missed (the sweep's claim on a due deadline).
    settled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    # While paused: since when, why, and the status a resume restores
    # (pending or extended). Empty when the clock runs.
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.TextField(blank=True, default="")
    paused_from = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(status__in=OPEN_DEADLINE), name="deadline_open_due_idx"),
            # The deadlines list's keyset (soonest first), and a case's soonest
            # running deadline (the board's order, the overdue filter).
            models.Index(fields=["due_at", "id"], name="deadline_due_id_idx"),
            models.Index(fields=["case", "due_at"], condition=Q(status__in=UNSETTLED_DEADLINE),
                         name="deadline_case_running_idx"),
            models.Index(fields=["due_at"], condition=Q(status__in=OPEN_DEADLINE, reminded_at__isnull=True),
                         name="deadline_unreminded_due_idx"),
            # The homes' "coming soonest" (paused ones too): without it the
            # walk along due_at passes every settled deadline of the mission.
            models.Index(fields=["due_at"], condition=Q(status__in=UNSETTLED_DEADLINE),
                         name="deadline_unsettled_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], condition=Q(kind__in=["verification", "measures"]),
                                    name="one_stage_deadline_per_case"),
            # A paused clock always knows since when (resume adds the time since).
            models.CheckConstraint(condition=Q(status="paused", paused_at__isnull=False)
                                   | (~Q(status="paused") & Q(paused_at__isnull=True)),
                                   name="deadline_paused_at_iff_paused"),
            models.UniqueConstraint(fields=["case"], condition=Q(kind="reply"), name="one_reply_window_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} deadline of case {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DEADLINE

    @property
    def is_paused(self) -> bool:
        return self.status == DeadlineStatus.PAUSED

    def settle(self, status: str, *, now) -> None:
        """Mark it met or missed (the sweep's claim, or the stage's end). A
        stage that ends while its clock is paused ends the pause too."""
        self.status = status
        self.settled_at = now
        self._clear_pause()
        self.save(update_fields=["status", "settled_at", "paused_at", "pause_reason", "paused_from"])

    def pause(self, *, now, reason: str) -> None:
        """Stop the clock; resume() moves due_at by the time it stood still."""
        self.paused_from = self.status
        self.status = DeadlineStatus.PAUSED
        self.paused_at = now
        self.pause_reason = reason
        self.save(update_fields=["status", "paused_at", "pause_reason", "paused_from"])

    def resume(self, *, now) -> None:
        """Restart the clock: due later by exactly the time paused, running
        again as it was (pending or extended), and reminded again before it."""
        self.due_at = self.due_at + (now - self.paused_at)
        self.status = self.paused_from or DeadlineStatus.PENDING
        self.reminded_at = None
        self._clear_pause()
        self.save(update_fields=["due_at", "status", "reminded_at", "paused_at", "pause_reason", "paused_from"])

    def _clear_pause(self) -> None:
        self.paused_at = None
        self.pause_reason = ""
        self.paused_from = ""

    def extend_to(self, due_at) -> None:
        """A new due time: open again, and reminded again before it."""
        self.due_at = due_at
        self.status = DeadlineStatus.EXTENDED
        self.settled_at = None
        self.reminded_at = None
        self.save(update_fields=["due_at", "status", "settled_at", "reminded_at"])


class Bulletin(models.Model):
    """A published public bulletin: counts for one period, and the signed
    tree head of the trail it was made from. Immutable once published (the
    database refuses UPDATE and DELETE: commission/triggers.py), and one per
    period, so a re-run of the publisher finds it instead of publishing twice."""

    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    published_at = models.DateTimeField()
    # None: published by beat on schedule; otherwise the chair who asked.
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    on_demand = models.BooleanField(default=False)
    # Only aggregates: counts, grid cells' centres, public case summaries
    # (commission.selectors.bulletin_content says what is in it and what is not).
    content = models.JSONField()
    # audit.selectors.checkpoint_dict of the checkpoint signed just before the
    # bulletin was made; None only when the trail was still empty.
    tree_head = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["period_start", "period_end"], name="one_bulletin_per_period"),
            models.CheckConstraint(condition=Q(period_end__gt=models.F("period_start")),
                                   name="bulletin_period_not_empty"),
        ]

    def __str__(self) -> str:
        return f"bulletin {self.period_start:%Y-%m-%d %H:%M} to {self.period_end:%Y-%m-%d %H:%M}"


class ReplyNotice(models.Model):
    """A party named in the case's reports whose representatives were told,
    when the case entered attribution, that they may reply. Fixed then: the
    parties that hold the round back are these, not whoever represents a
    party later. A named party with no representative gets no notice and
    holds nothing back (there is nobody to hear)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reply_notices")
    party = models.ForeignKey("accounts.Party", on_delete=models.PROTECT, related_name="+")
    notified_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["case", "party"], name="one_reply_notice_per_party_case")]

    def __str__(self) -> str:
        return f"reply notice to {self.party_id} on {self.case_id}"


class Reply(models.Model):
    """A party's reply to a case that names it (the right of reply before
    attribution): one per party and case, written by one of its
    representatives while the reply window is open, never edited."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="replies")
    party = models.ForeignKey("accounts.Party", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Two representatives of one party replying at once: the second insert fails here.
            models.UniqueConstraint(fields=["case", "party"], name="one_reply_per_party_case"),
        ]

    def __str__(self) -> str:
        return f"reply of {self.party_id} on {self.case_id}"


def reply_evidence_path(instance: "ReplyEvidence", filename: str) -> str:
    # Content-derived name, as for reports' evidence: the uploader's file name never reaches the disk.
    return f"replies/{instance.sha256[:2]}/{instance.sha256}"


class ReplyEvidence(models.Model):
    reply = models.ForeignKey(Reply, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to=reply_evidence_path, max_length=200)
    original_name = models.CharField(max_length=255, blank=True, default="")
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "reply evidence"

    def __str__(self) -> str:
        return f"{self.reply_id} {self.sha256[:12]}"


class Comment(models.Model):
    """One contribution to a case's discussion among the commission's roles
    (never shown to party representatives or monitors). Never edited or
    deleted: what was said before a vote stays as it was said, and the
    trail holds each body (case.comment_posted)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    # The comment this one answers (same case); its author is told.
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="replies")
    created_at = models.DateTimeField(auto_now_add=True)
    # The readers named as @username in the body, told when it was posted.
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.case_id}"
