"""Reads of notifications: only ever one's own."""

from django.db.models import QuerySet

from notifications.models import Notification


def notification_list_for(user, *, unread: bool | None = None) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user)
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs.order_by("-id")


def notification_get_for(user, pk) -> Notification | None:
    return notification_list_for(user).filter(pk=pk).first()
