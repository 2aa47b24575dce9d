from django.conf import settings
from django.urls import path

from config.uploads import body_limit
from reports import api

urlpatterns = [
    path("reports/", api.ReportListCreateApi.as_view(), name="report-list"),
    # Refused from its Content-Length before the body is read (config.uploads).
    path("reports/import/", body_limit(lambda: settings.REPORT_IMPORT_MAX_BYTES, api.import_too_large)(
        api.ReportImportApi.as_view()), name="report-import"),
    path("reports.geojson", api.ReportGeoJsonApi.as_view(), name="report-geojson"),
    path("map/clusters/", api.MapClustersApi.as_view(), name="map-clusters"),
    path("reports/<int:pk>/", api.ReportDetailApi.as_view(), name="report-detail"),
    path("reports/<int:pk>/similar/", api.ReportSimilarApi.as_view(), name="report-similar"),
    path("reports/<int:pk>/receipt/", api.ReportReceiptApi.as_view(), name="report-receipt"),
    path("reports/<int:pk>/evidence/", api.ReportEvidenceApi.as_view(), name="report-evidence"),
    path("evidence/<int:pk>/download/", api.EvidenceDownloadApi.as_view(), name="evidence-download"),
    path("evidence/<int:pk>/thumbnail/", api.EvidenceThumbnailApi.as_view(), name="evidence-thumbnail"),
]
