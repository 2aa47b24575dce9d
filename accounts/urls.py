from django.urls import path

from accounts.api import MeApi, PartyListApi, TokenApi

urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("me/", MeApi.as_view(), name="me"),
    path("parties/", PartyListApi.as_view(), name="parties"),
]
