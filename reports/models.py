from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce

# What the full-text search reads (config.search; reports.selectors.report_search).
# Its GIN index is on the stored vector (migration 0012; PostgreSQL only, see config.search).
SEARCH_FIELDS = ("description", "place_name", "admin1", "weapons")
# Their vector, kept by PostgreSQL in this column (migration 0012; not a model field: SQLite has none).
SEARCH_VECTOR = "search_vector"


class Category(models.TextChoices):
    SHELLING = "shelling"
    MISSILE_STRIKE = "missile_strike"
    DRONE_STRIKE = "drone_strike"
    AIR_STRIKE = "air_strike"
    SMALL_ARMS_FIRE = "small_arms_fire"
    GROUND_ASSAULT = "ground_assault"
    MINE_IED = "mine_ied"
    AIRSPACE_VIOLATION = "airspace_violation"
    MARITIME_INCIDENT = "maritime_incident"
    INFRASTRUCTURE_ATTACK = "infrastructure_attack"
    HEAVY_WEAPONS_MOVEMENT = "heavy_weapons_movement"
    OTHER = "other"


class SourceType(models.TextChoices):
    DIRECT_OBSERVATION = "direct_observation"
    IMAGERY = "imagery"
    UAV = "uav"
    ACOUSTIC = "acoustic"
    THIRD_PARTY = "third_party"
    OPEN_SOURCE = "open_source"


class ReportStatus(models.TextChoices):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    # Sent back to its monitor by a verifier or the chair with a question;
    # the monitor edits it and submits it again. Not triageable meanwhile.
    RETURNED = "returned"


class Report(models.Model):
    REFERENCE_PREFIX = "RPT"

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports")
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.SUBMITTED)

    # Null only in a draft: a draft keeps whatever subset of fields its monitor
    # has so far; reports.services checks completeness when it is submitted
    # (and the report_submitted_complete constraint holds every other status to it).
    occurred_at = models.DateTimeField(null=True, blank=True)
    occurred_until = models.DateTimeField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)])
    lon = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)])
    precision_m = models.PositiveIntegerField(null=True, blank=True)
    place_name = models.CharField(max_length=200, blank=True, default="")
    admin1 = models.CharField(max_length=200, blank=True, default="")
    category = models.CharField(max_length=32, choices=Category.choices, blank=True, default="")
    description = models.TextField(blank=True, default="")
    alleged_party = models.ForeignKey(
        "accounts.Party", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_type = models.CharField(max_length=32, choices=SourceType.choices, blank=True, default="")
    civilian_killed = models.PositiveIntegerField(default=0)
    civilian_injured = models.PositiveIntegerField(default=0)
    military_killed = models.PositiveIntegerField(default=0)
    military_injured = models.PositiveIntegerField(default=0)
    weapons = models.CharField(max_length=500, blank=True, default="")
    severity = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    links = models.JSONField(default=list, blank=True)

    # Idempotent intake: the unique constraint below, not a read before the
    # write, is what makes two concurrent requests with one key create one row.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    # The open question while status is "returned" (empty otherwise). Only
    # the current one lives here: every question and its answer stay in the
    # trail (report.returned, report.resubmitted).
    returned_reason = models.TextField(blank=True, default="")
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="report_idempotency_key_per_author",
            ),
            models.CheckConstraint(
                condition=Q(occurred_until__isnull=True) | Q(occurred_until__gte=models.F("occurred_at")),
                name="report_until_not_before_start",
            ),
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90), name="report_lat_range"),
            models.CheckConstraint(condition=Q(lon__gte=-180, lon__lte=180), name="report_lon_range"),
            # Whatever writes the row, only a draft may lack what a filed report needs.
            models.CheckConstraint(
                condition=Q(status="draft") | (
                    Q(occurred_at__isnull=False, lat__isnull=False, lon__isnull=False)
                    & ~Q(category="") & ~Q(source_type="") & ~Q(description="")),
                name="report_submitted_complete",
            ),
            models.CheckConstraint(
                condition=Q(severity__isnull=True) | Q(severity__gte=1, severity__lte=5),
                name="report_severity_range",
            ),
        ]
        indexes = [
            # "similar" and bounding-box filters narrow on category, time and latitude.
            models.Index(fields=["category", "occurred_at"], name="report_cat_time_idx"),
            # The map's close zooms (selectors.report_clusters) read only these columns of the
            # reports in a box: carried in the index, they are read without visiting the table.
            models.Index(fields=["lat", "lon"], name="report_latlon_idx",
                         include=["status", "category", "occurred_at", "author_id", "id"]),
            models.Index(fields=["author", "status"], name="report_author_status_idx"),
            models.Index(fields=["status", "occurred_at"], name="report_status_time_idx"),
            # The lists' keyset orders (bench/lists.py): a page is a range scan of one of these.
            # A monitor's own reports, newest first (/my/reports/, the API for a monitor).
            models.Index(fields=["author", "-id"], name="report_author_id_idx"),
            # The inbox's sorts, over submitted reports only (the anti-join with
            # live case links then probes report_in_one_live_case per row).
            models.Index(fields=["submitted_at", "id"], condition=Q(status="submitted"), name="report_inbox_idx"),
            models.Index(fields=["occurred_at", "id"], condition=Q(status="submitted"),
                         name="report_inbox_occurred_idx"),
            models.Index(fields=["category", "submitted_at", "id"], condition=Q(status="submitted"),
                         name="report_inbox_category_idx"),
            # Duplicate candidates where the coarse cuts find them (report_similar_many
            # off PostgreSQL): a span ending after the window's start. With
            # report_cat_time_idx (starting before its end) the planner has a short
            # range either way, for old and new reports. On PostgreSQL a GiST index
            # on span and point answers instead (report_similar_idx, migration 0010).
            models.Index(F("category"), Coalesce("occurred_until", "occurred_at"), name="report_cat_end_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """Human reference such as RPT-2026-000123, derived from the id (so
        unique) and the year of filing; nothing extra to write at intake."""
        if self.pk is None:
            return ""
        return self.reference_for(self.pk, self.created_at.year)  # .year: what %Y writes, without strftime

    @classmethod
    def reference_for(cls, pk: int, year: int) -> str:
        """The reference of a row read as values (an export's tuples)."""
        return f"{cls.REFERENCE_PREFIX}-{year}-{pk:06d}"

    def mark_returned(self, *, reason: str, by, now) -> None:
        """Back to its author with a question (the status and the question move together)."""
        self.status = ReportStatus.RETURNED
        self.returned_reason, self.returned_by, self.returned_at = reason, by, now
        self.save(update_fields=["status", "returned_reason", "returned_by", "returned_at", "updated_at"])


def evidence_path(instance: "Evidence", filename: str) -> str:
    # Content-derived name: the uploader's file name never reaches the disk.
    return f"evidence/{instance.sha256[:2]}/{instance.sha256}"


def evidence_thumbnail_path(sha256: str) -> str:
    # Beside the original, content-addressed like it: the same bytes have one thumbnail.
    return f"evidence/{sha256[:2]}/{sha256}-thumb.jpg"


class Evidence(models.Model):
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="evidence")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(max_length=255, blank=True, default="")
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # Idempotent upload, as for reports: the constraint below makes two
    # concurrent requests with one key store one row.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    # Derived from the original at upload (reports.images), never the other
    # way round: a JPEG of at most 320 px with no metadata, shown on pages in
    # place of the original; empty for PDF, MP4 and images Pillow cannot read.
    thumbnail = models.FileField(max_length=200, blank=True, default="")
    thumbnail_width = models.PositiveSmallIntegerField(null=True, blank=True)
    thumbnail_height = models.PositiveSmallIntegerField(null=True, blank=True)
    # What the camera wrote in the original's EXIF, for the verifier to set
    # beside what the report says (time and place).
    exif_taken_at = models.DateTimeField(null=True, blank=True)
    # False: no OffsetTimeOriginal, so exif_taken_at is the camera's clock read as UTC.
    exif_taken_at_has_offset = models.BooleanField(default=False)
    exif_lat = models.FloatField(null=True, blank=True)
    exif_lon = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "evidence"
        constraints = [
            models.UniqueConstraint(
                fields=["uploaded_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="evidence_idempotency_key_per_uploader",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report.reference} {self.sha256[:12]}"


# --- Counts kept on write (reports.services.counts) ----------------------------
# Filed reports only (submitted or returned: a draft may lack its time, place
# and category). Each row moves in the same transaction as the reports it
# counts; `rebuild_report_counts` recomputes the tables from the reports.


class _PeriodCount(models.Model):
    """How many filed reports occurred in a period (UTC), by category,
    alleged party (its code; "" for none) and status."""

    category = models.CharField(max_length=32)
    party = models.CharField(max_length=16, blank=True, default="")
    status = models.CharField(max_length=16)
    n = models.IntegerField(default=0)

    class Meta:
        abstract = True


class ReportDailyCount(_PeriodCount):
    """The counts by day: what the overview's charts read instead of
    grouping every report per request."""

    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "category", "party", "status"],
                                               name="report_daily_count_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.category} {self.party or '-'} {self.status}: {self.n}"


class ReportMonthlyCount(_PeriodCount):
    """The day rows added up by month (`month`: its first day), kept on
    write beside them: the overview's charts run over the whole mission by
    month, and grouping some 45,000 day rows per request cost it 26-43 ms of
    its ~90 at a million reports (BENCHMARKS.md, "Pauses"); this table
    holds about 2,500."""

    month = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "category", "party", "status"],
                                               name="report_monthly_count_key")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.category} {self.party or '-'} {self.status}: {self.n}"


class ReportMapCell(models.Model):
    """How many filed reports lie in a cell of the map's grid at each zoom
    of reports.mapgrid.CELL_LEVELS, by category and status, with the sums of
    their positions (the cluster's centre) and of their ids (when n is 1, the
    sum is the report's id): the map's far zooms add these up instead of
    reading every report."""

    zoom = models.PositiveSmallIntegerField()
    x = models.IntegerField()
    y = models.IntegerField()
    category = models.CharField(max_length=32)
    status = models.CharField(max_length=16)
    n = models.IntegerField(default=0)
    sum_lat = models.FloatField(default=0)
    sum_lon = models.FloatField(default=0)
    sum_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["zoom", "x", "y", "category", "status"],
                                               name="report_map_cell_key")]

    def __str__(self) -> str:
        return f"{self.zoom}/{self.x}/{self.y} {self.category} {self.status}: {self.n}"
