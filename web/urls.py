from django.urls import path

from web import account, audit_pages, bulletin_pages, inbox_pages, overview, pwa, record, reply_pages, two_factor, views
from web import case_posts as posts
from web import commission_pages as cp

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", views.LoginView.as_view(), name="login"),
    path("signout/", views.LogoutView.as_view(), name="logout"),
    path("signin/code/", two_factor.verify, name="two_factor_verify"),
    path("account/two-factor/", two_factor.setup, name="two_factor_setup"),
    path("account/two-factor/qr.svg", two_factor.qr, name="two_factor_qr"),
    path("account/tokens/", account.tokens, name="tokens"),
    path("account/notifications/", account.notification_preferences, name="notification_preferences"),
    path("account/tokens/<int:pk>/revoke/", account.token_revoke, name="token_revoke"),
    path("account/tokens/revoke-all/", account.tokens_revoke_all, name="tokens_revoke_all"),
    # Monitor
    path("my/reports/", views.report_list, name="report_list"),
    path("my/reports/new/", views.report_new, name="report_new"),
    path("outbox/", pwa.outbox, name="outbox"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/edit/", views.report_edit, name="report_edit"),
    path("reports/<int:pk>/receipt.json", views.report_receipt, name="report_receipt"),
    path("reports/<int:pk>/evidence/", views.evidence_add, name="evidence_add"),
    path("evidence/<int:pk>/preview/", views.evidence_preview, name="evidence_preview"),
    path("evidence/<int:pk>/thumbnail/", views.evidence_thumbnail, name="evidence_thumbnail"),
    # Commission
    path("inbox/", inbox_pages.inbox, name="inbox"),
    path("inbox/open-case/", inbox_pages.case_open, name="case_open"),
    path("inbox/<int:pk>/return/", inbox_pages.report_return, name="report_return"),
    path("inbox/<int:pk>/add-to/<int:case_pk>/", inbox_pages.inbox_add_to_case, name="inbox_add_to_case"),
    path("inbox/return/", inbox_pages.inbox_bulk_return, name="inbox_bulk_return"),
    path("inbox/link/", inbox_pages.inbox_bulk_link, name="inbox_bulk_link"),
    path("cases/", cp.case_list, name="case_list"),
    path("cases/<int:pk>/", cp.case_detail, name="case_detail"),
    path("cases/<int:pk>/trail/", cp.case_trail, name="case_trail"),
    path("cases/<int:pk>/record/", record.case_record, name="case_record"),
    # Party representatives (and the commission, reading)
    path("cases/<int:pk>/reply/", reply_pages.case_reply, name="case_reply"),
    path("cases/<int:pk>/link/", posts.case_link, name="case_link"),
    path("cases/<int:pk>/detach/", posts.case_detach, name="case_detach"),
    path("cases/<int:pk>/verification/", posts.case_verify, name="case_verify"),
    path("cases/<int:pk>/rounds/", posts.round_open, name="round_open"),
    path("cases/<int:pk>/comments/", posts.comment_post, name="comment_post"),
    path("cases/<int:pk>/ballot/", posts.ballot_cast, name="ballot_cast"),
    path("cases/<int:pk>/conflict/", posts.conflict_declare, name="conflict_declare"),
    path("cases/<int:pk>/measures/", posts.measure_propose, name="measure_propose"),
    path("cases/<int:pk>/measures/<int:measure_pk>/decision/", posts.measure_decide, name="measure_decide"),
    path("cases/<int:pk>/measures/<int:measure_pk>/compliance/", posts.measure_compliance, name="measure_compliance"),
    path("cases/<int:pk>/deadlines/<int:deadline_pk>/extend/", posts.deadline_extend, name="deadline_extend"),
    path("cases/<int:pk>/deadlines/<int:deadline_pk>/pause/", posts.deadline_pause, name="deadline_pause"),
    path("cases/<int:pk>/deadlines/<int:deadline_pk>/resume/", posts.deadline_resume, name="deadline_resume"),
    path("cases/<int:pk>/close/", posts.case_close, name="case_close"),
    path("cases/<int:pk>/summary-public/", bulletin_pages.summary_public, name="case_summary_public"),
    path("board/", cp.board, name="board"),
    path("board/bulletin/", bulletin_pages.publish, name="bulletin_publish"),
    # Auditor
    path("trail/", audit_pages.trail, name="audit"),
    path("trail/export.jsonl", audit_pages.trail_export, name="trail_export"),
    path("trail/reports.csv", audit_pages.reports_csv, name="reports_csv"),
    # The public bulletin (no sign-in)
    path("bulletin/", bulletin_pages.bulletin, name="bulletin"),
    path("bulletin/<int:pk>/", bulletin_pages.bulletin, name="bulletin_detail"),
    path("bulletin/latest.json", bulletin_pages.latest_json, name="bulletin_latest_json"),
    path("bulletin/feed.atom", bulletin_pages.feed, name="bulletin_feed"),
    # The installable report form (issue 11, item 1)
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    # Overview
    path("overview/", overview.overview, name="overview"),
]
