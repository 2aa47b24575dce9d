"""API routes served by the web layer: documents rendered from its templates
(mounted under /api/v1/ by config/urls.py)."""

from django.urls import path

from web import record

urlpatterns = [
    path("cases/<int:pk>/record.pdf", record.CaseRecordPdfApi.as_view(), name="case-record-pdf"),
]
