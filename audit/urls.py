from django.urls import path

from audit import api

urlpatterns = [
    path("audit/events/", api.AuditEventListApi.as_view(), name="audit-events"),
    path("audit/verify/", api.AuditVerifyApi.as_view(), name="audit-verify"),
    path("audit/export/", api.AuditExportApi.as_view(), name="audit-export"),
    path("audit/checkpoints/", api.CheckpointListApi.as_view(), name="audit-checkpoints"),
    path("audit/public-key/", api.PublicKeyApi.as_view(), name="audit-public-key"),
    path("audit/proof/<int:seq>/", api.InclusionProofApi.as_view(), name="audit-proof"),
    path("audit/consistency/", api.ConsistencyProofApi.as_view(), name="audit-consistency"),
]
