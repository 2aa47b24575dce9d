"""Reads of the accounts app."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import AuthToken, User


def tokens_of(user: User) -> QuerySet[AuthToken]:
    """The user's live tokens, newest first (expired ones are not listed:
    they authenticate nothing and go when the next token is issued)."""
    now = timezone.now()
    return AuthToken.objects.filter(Q(expiry__isnull=True) | Q(expiry__gt=now), user=user).order_by("-created", "-id")
