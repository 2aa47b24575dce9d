from django.urls import path

from accounts.api import LogoutAllApi, LogoutApi, MeApi, PartyListApi, TokenApi, TokenDetailApi, TokenListApi

urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("auth/tokens/", TokenListApi.as_view(), name="auth-tokens"),
    path("auth/tokens/<int:pk>/", TokenDetailApi.as_view(), name="auth-token-detail"),
    path("auth/logout/", LogoutApi.as_view(), name="auth-logout"),
    path("auth/logout/all/", LogoutAllApi.as_view(), name="auth-logout-all"),
    path("me/", MeApi.as_view(), name="me"),
    path("parties/", PartyListApi.as_view(), name="parties"),
]
