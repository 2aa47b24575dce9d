"""Your own notifications, whatever your role."""

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import ALL_ROLES, HasRole
from accounts.services import user_language_set
from config.api import CursorPage
from config.schema import CURSOR_NOT_FOUND, ErrorSerializer
from notifications import selectors, services
from notifications.serializers import (
    NotificationFilterSerializer,
    NotificationSerializer,
    PreferencesSerializer,
    PreferencesUpdateSerializer,
)

OWN_NOTIFICATIONS = [IsAuthenticated, HasRole(*ALL_ROLES)]
_ERRORS = {
    400: OpenApiResponse(response=ErrorSerializer, description="Invalid input: a message per field, in DRF's usual shape."),
    401: OpenApiResponse(response=ErrorSerializer, description="Not signed in."),
    403: OpenApiResponse(response=ErrorSerializer, description="Your role does not allow this."),
    404: OpenApiResponse(response=ErrorSerializer, description="No such notification (or not one you may see)."),
}


class NotificationListApi(GenericAPIView):
    permission_classes = OWN_NOTIFICATIONS
    serializer_class = NotificationSerializer
    filter_backends: list = []
    # Newest first: notif_recipient_idx (recipient, -id).
    pagination_class = CursorPage

    @extend_schema(
        operation_id="notifications_list",
        summary="Your notifications, newest first",
        parameters=[NotificationFilterSerializer],
        responses={200: NotificationSerializer(many=True), **{c: _ERRORS[c] for c in (400, 401, 403)},
                   404: OpenApiResponse(response=ErrorSerializer, description=CURSOR_NOT_FOUND)},
    )
    def get(self, request):
        filters = NotificationFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.notification_list_for(request.user, **filters.validated_data))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationReadApi(APIView):
    permission_classes = OWN_NOTIFICATIONS

    @extend_schema(
        operation_id="notifications_read",
        summary="Mark one of your notifications read (idempotent)",
        request=None,
        responses={200: NotificationSerializer, **{c: _ERRORS[c] for c in (401, 403, 404)}},
    )
    def post(self, request, pk: int):
        notification = selectors.notification_get_for(request.user, pk)
        if notification is None:
            raise NotFound("No such notification.")
        notification = services.notification_mark_read(actor=request.user, notification=notification)
        return Response(NotificationSerializer(notification).data)


def _preferences(user) -> dict:
    return {"language": user.language, "kinds": selectors.notification_preferences_of(user)}


class NotificationPreferencesApi(APIView):
    permission_classes = OWN_NOTIFICATIONS

    @extend_schema(
        operation_id="notifications_preferences",
        summary="How your notifications are emailed, kind by kind, and in which language",
        responses={200: PreferencesSerializer, **{c: _ERRORS[c] for c in (401, 403)}},
    )
    def get(self, request):
        return Response(PreferencesSerializer(_preferences(request.user)).data)

    @extend_schema(
        operation_id="notifications_preferences_set",
        summary="Set how kinds are emailed (immediate, digest, off) and your emails' language",
        description="Kinds not named keep their setting; one unknown kind or mode changes nothing (400). "
                    "A preference applies to notifications stored from then on.",
        request=PreferencesUpdateSerializer,
        responses={200: PreferencesSerializer, **{c: _ERRORS[c] for c in (400, 401, 403)}},
    )
    def put(self, request):
        data = PreferencesUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            if "language" in data.validated_data:
                user_language_set(actor=request.user, language=data.validated_data["language"])
            services.notification_preferences_set(actor=request.user, email=data.validated_data.get("email", {}))
        return Response(PreferencesSerializer(_preferences(request.user)).data)
