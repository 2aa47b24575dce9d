from django.urls import path

from commission.api import bulletins, cases, decisions, discussion, replies

urlpatterns = [
    path("cases/", cases.CaseListCreateApi.as_view(), name="case-list"),
    path("cases/<int:pk>/", cases.CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<int:pk>/reports/", cases.CaseReportsApi.as_view(), name="case-reports"),
    path("cases/<int:pk>/reports/<int:report_id>/detach/", cases.CaseReportDetachApi.as_view(),
         name="case-report-detach"),
    path("cases/<int:pk>/verification/", cases.CaseVerificationApi.as_view(), name="case-verification"),
    path("cases/<int:pk>/conflicts/", cases.CaseConflictApi.as_view(), name="case-conflicts"),
    path("cases/<int:pk>/rounds/", cases.CaseRoundsApi.as_view(), name="case-rounds"),
    path("cases/<int:pk>/measures/", cases.CaseMeasuresApi.as_view(), name="case-measures"),
    path("cases/<int:pk>/close/", cases.CaseCloseApi.as_view(), name="case-close"),
    path("cases/<int:pk>/summary-public/", bulletins.CaseSummaryPublicApi.as_view(), name="case-summary-public"),

    path("cases/<int:pk>/replies/", replies.CaseRepliesApi.as_view(), name="case-replies"),
    path("cases/<int:pk>/replies/evidence/<int:evidence_id>/", replies.ReplyEvidenceDownloadApi.as_view(),
         name="case-reply-evidence"),
    path("cases/<int:pk>/comments/", discussion.CaseCommentsApi.as_view(), name="case-comments"),
    path("cases/<int:pk>/trail/", cases.CaseTrailApi.as_view(), name="case-trail"),
    path("rounds/<int:pk>/", decisions.RoundDetailApi.as_view(), name="round-detail"),
    path("rounds/<int:pk>/ballots/", decisions.RoundBallotApi.as_view(), name="round-ballots"),
    path("measures/<int:pk>/adopt/", decisions.MeasureAdoptApi.as_view(), name="measure-adopt"),
    path("measures/<int:pk>/reject/", decisions.MeasureRejectApi.as_view(), name="measure-reject"),
    path("measures/<int:pk>/compliance/", decisions.MeasureComplianceApi.as_view(), name="measure-compliance"),
    path("deadlines/", decisions.DeadlineListApi.as_view(), name="deadline-list"),
    path("deadlines/<int:pk>/extend/", decisions.DeadlineExtendApi.as_view(), name="deadline-extend"),
    path("deadlines/<int:pk>/pause/", decisions.DeadlinePauseApi.as_view(), name="deadline-pause"),
    path("deadlines/<int:pk>/resume/", decisions.DeadlineResumeApi.as_view(), name="deadline-resume"),
    # Returning a report to its monitor is triage: the commission's, under the report's address.
    path("reports/<int:pk>/return/", decisions.ReportReturnApi.as_view(), name="report-return"),
    # The public bulletin: read without signing in.
    path("bulletins/", bulletins.BulletinListApi.as_view(), name="bulletin-list"),
    path("bulletins/<int:pk>/", bulletins.BulletinDetailApi.as_view(), name="bulletin-detail"),
]
