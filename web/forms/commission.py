"""The commission's forms: cases, rounds, ballots, measures, deadlines, the inbox
and the trail's filters. Each validates input only; the services decide."""

from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Party
from commission.services import COMMENT_MAX
from reports.models import Category
from web.forms import (  # defined first in the package, which imports this module last
    DateTimeLocal,
)
from web.labels import choices

# --- The commission's forms --------------------------------------------------
# Django checks only the shape here (present, a number, a date); every rule
# of the workflow is the service's, whose refusal lands on the field it names.


class CaseOpenForm(forms.Form):
    title = forms.CharField(label=_("Case title"), max_length=200)
    reports = forms.MultipleChoiceField(label=_("Reports"), required=False, widget=forms.CheckboxSelectMultiple)


class LinkReportForm(forms.Form):
    report = forms.CharField(label=_("Report reference or number"), help_text=_("e.g. RPT-2026-000123"))


class DetachReportForm(forms.Form):
    report = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why detach it?"), widget=forms.Textarea(attrs={"rows": 2}))


class VerificationForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect)
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = choices(["confirmed", "not_confirmed", "unfounded"])


class RoundOpenForm(forms.Form):
    closes_at = forms.DateTimeField(label=_("Closes at (UTC)"), required=False, widget=DateTimeLocal,
                                    help_text=_("Leave empty for the default voting period."))
    # A percentage on the page; the service (and the API) take the fraction.
    quorum = forms.DecimalField(label=_("Quorum (%)"), min_value=1, max_value=100, decimal_places=1,
                                initial=50,
                                help_text=_("Share of the eligible members who must vote, in percent: "
                                            "50 means half of them."))
    threshold = forms.ChoiceField(label=_("Threshold"))
    override_reason = forms.CharField(
        label=_("Reason to open before the parties are heard"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed only while the reply window is open and a party has not replied; "
                    "it goes into the decision trail."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["threshold"].choices = choices(["simple", "two_thirds"])


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Your comment"), max_length=COMMENT_MAX, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Seen by verifiers, the chair, members and auditors; never by the parties. "
                                       "Write @username to tell someone. A comment cannot be edited afterwards."))
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


class BallotForm(forms.Form):
    choice = forms.ChoiceField(label=_("Your choice"), widget=forms.RadioSelect)
    rationale = forms.CharField(label=_("Rationale"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, parties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["choice"].choices = [(p.code, f"{p.code} · {p.name}") for p in parties] + choices(
            ["undetermined", "abstain"])


class ConflictForm(forms.Form):
    reason = forms.CharField(label=_("Your conflict of interest"), widget=forms.Textarea(attrs={"rows": 2}))


class MeasureForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of measure"))
    addressee = forms.ChoiceField(label=_("Addressed to"))
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}))
    compliance_due_at = forms.DateTimeField(label=_("Compliance due (UTC)"), required=False, widget=DateTimeLocal)

    def __init__(self, *args, parties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = choices(
            ["diplomatic_action", "sanctions", "intelligence", "military_reassurance", "remedial_demand"])
        self.fields["addressee"].choices = [(p.code, f"{p.code} · {p.name}") for p in parties]


class MeasureDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [("adopt", _("Adopt")), ("reject", _("Reject"))]


class ComplianceForm(forms.Form):
    compliance = forms.ChoiceField(label=_("Compliance"), widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compliance"].choices = choices(["complied", "not_complied"])


class DeadlineExtendForm(forms.Form):
    due_at = forms.DateTimeField(label=_("New due time (UTC)"), widget=DateTimeLocal)
    reason = forms.CharField(label=_("Reason for the extension"), widget=forms.Textarea(attrs={"rows": 2}))


class DeadlinePauseForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the pause"), widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("For example: monitors denied access to the site."))


class DeadlineResumeForm(forms.Form):
    reason = forms.CharField(label=_("Reason for resuming"), widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("The due time moves later by the time the deadline was paused."))


class CaseCloseForm(forms.Form):
    summary = forms.CharField(label=_("Public summary"), widget=forms.Textarea(attrs={"rows": 4}))


def _confirm_field(text):
    return forms.BooleanField(label=text, required=True, error_messages={
        "required": _("Tick the box to confirm: this cannot be undone.")})


class CaseCloseConfirmForm(CaseCloseForm):
    """The confirmation page's form: the summary again (still editable) and
    the box that says the chair means it."""

    confirm = _confirm_field(_("I understand that closing the case cannot be undone."))


class MeasureDecisionConfirmForm(MeasureDecisionForm):
    confirm = _confirm_field(_("I understand that this decision cannot be undone."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The decision was chosen on the case page (or by the link); the page says which.
        self.fields["decision"].widget = forms.HiddenInput()


class ReportReturnForm(forms.Form):
    """The question sent back with a report. One per inbox card: the prefix
    (return-<id>) keeps the fields apart, and `form` ties the textarea to its
    own <form> element, which cannot sit inside the inbox's case form."""

    reason = forms.CharField(label=_("Question for the monitor"), widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("What should the monitor add or correct? They will see this text."))

    def __init__(self, *args, report_pk: int, **kwargs):
        super().__init__(*args, prefix=f"return-{report_pk}", **kwargs)
        self.report_pk = report_pk
        self.element_id = f"return-{report_pk}"
        self.fields["reason"].widget.attrs["form"] = self.element_id


class InboxFilterForm(forms.Form):
    """The inbox's order and filters (GET). What each means is
    commission.selectors.inbox_narrowed; `duplicates` keeps the reports that
    have a duplicate candidate (the page knows them, it shows them)."""

    search = forms.CharField(label=_("Search"), required=False, max_length=200)
    sort = forms.ChoiceField(label=_("Order"), required=False, choices=[
        ("oldest", _("Waiting longest first")), ("newest", _("Newest first")),
        ("occurred", _("Latest incident first")), ("category", _("By category"))])
    category = forms.ChoiceField(label=_("Category"), required=False)
    party = forms.ChoiceField(label=_("Alleged party"), required=False)
    admin1 = forms.CharField(label=_("Region"), required=False, max_length=200)
    duplicates = forms.BooleanField(label=_("Only reports with duplicate candidates"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("Any"))] + choices(Category.values)
        self.fields["party"].choices = [("", _("Any"))] + [
            (p.code, f"{p.code} — {p.name}") for p in Party.objects.order_by("code")]


class InboxBulkReturnForm(forms.Form):
    """Return the selected reports with one question (the inbox's bulk bar)."""

    bulk_reason = forms.CharField(label=_("One question for all the selected reports"),
                                  widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text=_("Sent with each selected report; its monitor sees this text."))


class InboxBulkLinkForm(forms.Form):
    """Link the selected reports to an existing case (the inbox's bulk bar)."""

    bulk_case = forms.CharField(label=_("Case reference"), max_length=32,
                                help_text=_("e.g. CASE-2026-000012; the case must be in verification."))


class TrailFilterForm(forms.Form):
    """The trail page's filters. Django's CharField refuses NUL characters,
    which PostgreSQL cannot compare with (the query would fail, not the input)."""

    actor = forms.CharField(required=False, max_length=150)
    # Any id is accepted (an older event's too); the page offers the known ones in words.
    action = forms.CharField(required=False, max_length=64)
    case = forms.CharField(required=False, max_length=64)
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)

    def window(self) -> tuple[datetime | None, datetime | None]:
        """The dates as the selector's [after, before) in UTC: `to` includes its whole day."""
        start, end = self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")
        after = datetime.combine(start, time.min, tzinfo=UTC) if start else None
        before = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC) if end else None
        return after, before

    def query(self) -> str:
        """The filters as a query string, for the pager's links."""
        return urlencode({k: v for k, v in self.data.items() if k in self.fields and v})
