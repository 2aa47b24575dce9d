"""Staff see reports and evidence here, read-only: every change to a report
goes through reports.services so that it lands in the decision trail, and
evidence is downloaded through the API so that each read is recorded."""

from django.contrib import admin

from config.admin import ReadOnlyAdmin
from reports.models import Evidence, Report


class EvidenceInline(admin.TabularInline):
    model = Evidence
    fields = ("sha256", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("reference", "status", "category", "author", "alleged_party", "occurred_at", "place_name",
                    "severity")
    list_filter = ("status", "category", "source_type", "alleged_party")
    search_fields = ("=id", "place_name", "admin1", "description", "author__username")
    date_hierarchy = "occurred_at"
    list_select_related = ("author", "alleged_party")
    readonly_fields = ("reference",)
    inlines = [EvidenceInline]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("id", "report", "content_type", "size", "sha256", "uploaded_by", "uploaded_at")
    list_filter = ("content_type",)
    search_fields = ("sha256", "=report__id")
    list_select_related = ("report", "uploaded_by")
    # The file itself is not linked from here: a download outside the API
    # would leave no trace in the trail.
    exclude = ("file",)
