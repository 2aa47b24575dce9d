"""Reads of notifications: only ever one's own."""

from django.db.models import QuerySet

from accounts.roles import has_role
from notifications.kinds import KINDS
from notifications.models import Notification, NotificationPreference


def notification_list_for(user, *, unread: bool | None = None) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user)
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs.order_by("-id")


def notification_get_for(user, pk) -> Notification | None:
    return notification_list_for(user).filter(pk=pk).first()


def notification_preferences_of(user) -> list[dict]:
    """The kinds the person's roles may receive, each with their email mode
    (their own, or the default)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return [{"kind": kind, "label": str(k.label), "act": k.act, "default": k.email,
             "email": chosen.get(kind, k.email)} for kind, k in KINDS.items() if has_role(user, *k.roles)]
