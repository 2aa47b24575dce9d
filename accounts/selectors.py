"""Reads of the accounts app."""

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuthToken, User
from accounts.roles import AUDITOR, CHAIR, MEMBER, PARTY_REPRESENTATIVE, has_role

# The roles that decide (and audit) attribution: their sign-in needs a second
# factor where REQUIRE_2FA is on, as does staff's (the admin).
# A party representative speaks for a state in the procedure: a stolen
# password must not be enough to file that state's reply.
TWO_FACTOR_ROLES = (CHAIR, MEMBER, AUDITOR, PARTY_REPRESENTATIVE)


def tokens_of(user: User) -> QuerySet[AuthToken]:
    """The user's live tokens, newest first (expired ones are not listed:
    they authenticate nothing and go when the next token is issued)."""
    now = timezone.now()
    return AuthToken.objects.filter(Q(expiry__isnull=True) | Q(expiry__gt=now), user=user).order_by("-created", "-id")


def two_factor_required(user) -> bool:
    """Whether `user` must pass a second factor to sign in: where
    settings.REQUIRE_2FA is on, the chair, members, auditors, party
    representatives and staff (not
    monitors nor verifiers, who sign in with a password alone)."""
    if not settings.REQUIRE_2FA or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or user.is_superuser or has_role(user, *TWO_FACTOR_ROLES))


def two_factor_enrolled(user) -> bool:
    """Whether `user` has a confirmed authenticator (TOTP device)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
