from django.urls import path

from commission import api

urlpatterns = [
    path("cases/", api.CaseListCreateApi.as_view(), name="case-list"),
    path("cases/<int:pk>/", api.CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<int:pk>/reports/", api.CaseReportsApi.as_view(), name="case-reports"),
    path("cases/<int:pk>/reports/<int:report_id>/detach/", api.CaseReportDetachApi.as_view(),
         name="case-report-detach"),
    path("cases/<int:pk>/verification/", api.CaseVerificationApi.as_view(), name="case-verification"),
    path("cases/<int:pk>/conflicts/", api.CaseConflictApi.as_view(), name="case-conflicts"),
    path("cases/<int:pk>/rounds/", api.CaseRoundsApi.as_view(), name="case-rounds"),
    path("cases/<int:pk>/measures/", api.CaseMeasuresApi.as_view(), name="case-measures"),
    path("cases/<int:pk>/close/", api.CaseCloseApi.as_view(), name="case-close"),
    path("cases/<int:pk>/trail/", api.CaseTrailApi.as_view(), name="case-trail"),
    path("rounds/<int:pk>/", api.RoundDetailApi.as_view(), name="round-detail"),
    path("rounds/<int:pk>/ballots/", api.RoundBallotApi.as_view(), name="round-ballots"),
    path("measures/<int:pk>/adopt/", api.MeasureAdoptApi.as_view(), name="measure-adopt"),
    path("measures/<int:pk>/reject/", api.MeasureRejectApi.as_view(), name="measure-reject"),
    path("measures/<int:pk>/compliance/", api.MeasureComplianceApi.as_view(), name="measure-compliance"),
    path("deadlines/", api.DeadlineListApi.as_view(), name="deadline-list"),
    path("deadlines/<int:pk>/extend/", api.DeadlineExtendApi.as_view(), name="deadline-extend"),
    # Returning a report to its monitor is triage: the commission's, under the report's address.
    path("reports/<int:pk>/return/", api.ReportReturnApi.as_view(), name="report-return"),
]
