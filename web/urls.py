from django.urls import path

from web import audit_pages, overview, views
from web import commission_pages as cp

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", views.LoginView.as_view(), name="login"),
    path("signout/", views.LogoutView.as_view(), name="logout"),
    # Monitor
    path("my/reports/", views.report_list, name="report_list"),
    path("my/reports/new/", views.report_new, name="report_new"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/edit/", views.report_edit, name="report_edit"),
    path("reports/<int:pk>/evidence/", views.evidence_add, name="evidence_add"),
    # Commission
    path("inbox/", cp.inbox, name="inbox"),
    path("cases/", cp.case_list, name="case_list"),
    path("board/", cp.board, name="board"),
    # Auditor
    path("trail/", audit_pages.trail, name="audit"),
    path("trail/export.jsonl", audit_pages.trail_export, name="trail_export"),
    path("trail/reports.csv", audit_pages.reports_csv, name="reports_csv"),
    # Overview
    path("overview/", overview.overview, name="overview"),
]
