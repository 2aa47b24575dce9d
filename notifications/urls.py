from django.urls import path

from notifications import api

urlpatterns = [
    path("notifications/", api.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/preferences/", api.NotificationPreferencesApi.as_view(), name="notification-preferences"),
    path("notifications/<int:pk>/read/", api.NotificationReadApi.as_view(), name="notification-read"),
]
