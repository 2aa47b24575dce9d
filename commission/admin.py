"""Staff browse the commission's workflow here, read-only: every change goes
through commission.services so that it lands in the decision trail.

Ballots are sealed until their round closes, for staff as for everyone: the
ballot admin shows who voted, when, and the commitment, and reveals choice,
rationale and salt only on a closed round. Nothing here filters, searches or
sorts on a choice (a filter would reveal it by its result count)."""

from django.contrib import admin

from commission.models import (
    Ballot,
    Case,
    CaseReport,
    ConflictDeclaration,
    Deadline,
    Measure,
    Round,
    RoundVoter,
)
from config.admin import ReadOnlyAdmin, ReadOnlyInline


class CaseReportInline(ReadOnlyInline):
    model = CaseReport
    fields = ("report", "linked_by", "linked_at", "detached_by", "detached_at", "detach_reason")
    readonly_fields = fields


class DeadlineInline(ReadOnlyInline):
    model = Deadline
    fields = ("kind", "due_at", "status", "settled_at", "paused_at", "pause_reason")
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "stage", "flagged", "attributed_party", "outcome", "created_at",
                    "closed_at")
    list_filter = ("stage", "flagged", "verification_outcome")
    search_fields = ("reference", "title")
    list_select_related = ("attributed_party",)
    inlines = [CaseReportInline, DeadlineInline]


@admin.register(CaseReport)
class CaseReportAdmin(ReadOnlyAdmin):
    list_display = ("case", "report", "linked_by", "linked_at", "detached_at")
    list_select_related = ("case", "report", "linked_by")


@admin.register(ConflictDeclaration)
class ConflictDeclarationAdmin(ReadOnlyAdmin):
    list_display = ("case", "member", "declared_at")
    list_select_related = ("case", "member")


@admin.register(Round)
class RoundAdmin(ReadOnlyAdmin):
    # outcome and counts are empty until the tally, so showing them reveals nothing early.
    list_display = ("case", "number", "status", "closes_at", "eligible_count", "outcome", "closed_at")
    list_filter = ("status",)
    list_select_related = ("case",)


@admin.register(RoundVoter)
class RoundVoterAdmin(ReadOnlyAdmin):
    list_display = ("round", "member", "recused_at")
    list_select_related = ("round", "member")


# Sealed at rest (commission/sealing.py): never shown, never filterable. A
# closed round's ballots are revealed by its round.tallied event in the trail.
SEALED = ("sealed",)


@admin.register(Ballot)
class BallotAdmin(ReadOnlyAdmin):
    list_display = ("id", "round", "voter", "cast_at", "superseded", "commitment")
    list_select_related = ("round", "voter")
    list_filter = ("superseded",)
    search_fields = ("voter__username", "commitment")

    def get_fields(self, request, obj=None):
        return ["round", "voter", "cast_at", "superseded", "commitment"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def lookup_allowed(self, lookup, value, request=None):
        # The admin lets any local field be filtered from the query string
        # (?choice=RU): refuse the sealed ones outright.
        if lookup.split("__")[0] in SEALED:
            return False
        return super().lookup_allowed(lookup, value, request)


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "addressee", "status", "compliance", "compliance_due_at", "proposed_by")
    list_filter = ("status", "compliance", "kind")
    list_select_related = ("case", "addressee", "proposed_by")


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "due_at", "status", "settled_at", "reminded_at")
    list_filter = ("status", "kind")
    list_select_related = ("case",)
