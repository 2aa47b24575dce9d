"""Changes of authority, each one transaction with its audit event.

Who holds which role, which delegation a person sits for, which party a
delegation *is* (that decides recusal from attribution) and whose account is
active decide who may vote on a state's responsibility. So none of them is a
silent row change: the admin and seed_demo call these services, and the trail
shows who changed what, when, before and after. (Someone with a Python shell
or the database can still bypass them; the round's own opening event records
who was eligible and why others were not, so the effect stays visible.)
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuthToken, Delegation, Party, User
from accounts.roles import ALL_ROLES
from audit.services import audit_record

# The flags whose change is a change of authority (staff reach the admin;
# superusers hold every permission, the trail's included).
FLAGS = ("is_active", "is_staff", "is_superuser")
# "Leave the delegation as it is" (None means: no delegation).
KEEP = object()


def _roles(user: User) -> list[str]:
    return sorted(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))


def _code(delegation: Delegation | None) -> str | None:
    return delegation.code if delegation is not None else None


def _checked_roles(roles: Iterable[str]) -> list[str]:
    wanted = sorted(set(roles))
    unknown = [r for r in wanted if r not in ALL_ROLES]
    if unknown:
        raise ValidationError({"roles": [_("Unknown role: %(roles)s.") % {"roles": ", ".join(unknown)}]})
    return wanted


def _party_code(party: Party | None) -> str | None:
    return party.code if party is not None else None


def user_authority_set(*, actor: User | None, user: User, roles: Iterable[str] | None = None,
                       delegation: Delegation | None | object = KEEP, flags: dict[str, bool] | None = None,
                       represents: Party | None | object = KEEP, reason: str = "") -> User:
    """Set what is given (roles, delegation, the FLAGS, the party a
    representative speaks for); write one event per kind of change
    (user.roles_changed, user.delegation_changed, user.flags_changed,
    user.represents_changed); nothing when nothing changes. `user` must be saved."""
    wanted_roles = _checked_roles(roles) if roles is not None else None
    flags = flags or {}
    if set(flags) - set(FLAGS):
        raise ValueError(f"not an authority flag: {sorted(set(flags) - set(FLAGS))}")
    with transaction.atomic():
        # The lock: two admins changing the same person serialise, and each
        # event's "before" is what the other one left.
        locked = User.objects.select_for_update().get(pk=user.pk)
        if wanted_roles is not None:
            before = _roles(locked)
            if before != wanted_roles:
                locked.groups.remove(*Group.objects.filter(name__in=set(before) - set(wanted_roles)))
                locked.groups.add(*[Group.objects.get_or_create(name=r)[0] for r in set(wanted_roles) - set(before)])
                audit_record(actor=actor, action="user.roles_changed", object_type="user", object_id=locked.pk,
                             before={"username": locked.username, "roles": before},
                             after={"username": locked.username, "roles": wanted_roles}, reason=reason)
        if delegation is not KEEP and locked.delegation_id != (delegation.pk if delegation else None):
            before_code = _code(locked.delegation)
            locked.delegation = delegation
            locked.save(update_fields=["delegation"])
            audit_record(actor=actor, action="user.delegation_changed", object_type="user", object_id=locked.pk,
                         before={"username": locked.username, "delegation": before_code},
                         after={"username": locked.username, "delegation": _code(delegation)}, reason=reason)
        if represents is not KEEP and locked.represents_id != (represents.pk if represents else None):
            # Which party's cases a representative reads: authority like a delegation.
            before_party = _party_code(locked.represents)
            locked.represents = represents
            locked.save(update_fields=["represents"])
            audit_record(actor=actor, action="user.represents_changed", object_type="user", object_id=locked.pk,
                         before={"username": locked.username, "represents": before_party},
                         after={"username": locked.username, "represents": _party_code(represents)},
                         reason=reason)
        lost_roles = wanted_roles is not None and bool(set(before) - set(wanted_roles))
        changed = {f: v for f, v in flags.items() if getattr(locked, f) != bool(v)}
        if changed:
            before_flags = {f: getattr(locked, f) for f in sorted(changed)}
            for field, value in changed.items():
                setattr(locked, field, bool(value))
            locked.save(update_fields=sorted(changed))
            audit_record(actor=actor, action="user.flags_changed", object_type="user", object_id=locked.pk,
                         before={"username": locked.username, **before_flags},
                         after={"username": locked.username, **{f: bool(v) for f, v in sorted(changed.items())}},
                         reason=reason)
        # Less authority: no token issued for the old authority lives on.
        if "is_active" in changed and not locked.is_active:
            tokens_revoke_all(actor=actor, user=locked, cause="deactivated", reason=reason)
        elif lost_roles or any(f in changed and not getattr(locked, f) for f in ("is_staff", "is_superuser")):
            tokens_revoke_all(actor=actor, user=locked, cause="authority_reduced", reason=reason)
    # The caller's instance follows what was stored.
    user.refresh_from_db(fields=["delegation", "represents", *FLAGS])
    return user


def user_create(*, actor: User | None, username: str, password: str | None, email: str = "",
                delegation: Delegation | None = None, roles: Iterable[str] = (),
                flags: dict[str, bool] | None = None, represents: Party | None = None,
                reason: str = "") -> User:
    """A new account and its first authority, in one transaction: user.created
    (with roles, delegation and flags), never the password."""
    wanted_roles = _checked_roles(roles)
    flags = {"is_active": True, "is_staff": False, "is_superuser": False, **(flags or {})}
    with transaction.atomic():
        user = User(username=username, email=email, delegation=delegation, represents=represents, **flags)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        user.groups.add(*[Group.objects.get_or_create(name=r)[0] for r in wanted_roles])
        audit_record(actor=actor, action="user.created", object_type="user", object_id=user.pk,
                     after={"username": username, "roles": wanted_roles, "delegation": _code(delegation),
                            "represents": _party_code(represents),
                            **{f: bool(v) for f, v in sorted(flags.items())}}, reason=reason)
    return user


def user_created_record(*, actor: User | None, user: User, reason: str = "") -> None:
    """The user.created event for an account the admin's add form just saved
    (in the same transaction): what it holds, never the password."""
    audit_record(actor=actor, action="user.created", object_type="user", object_id=user.pk,
                 after={"username": user.username, "roles": _roles(user), "delegation": _code(user.delegation),
                        "represents": _party_code(user.represents),
                        **{f: getattr(user, f) for f in FLAGS}}, reason=reason)


def party_delegation_set(*, actor: User | None, party: Party, delegation: Delegation | None,
                         reason: str = "") -> Party:
    """Link a party to the delegation that *is* it (its members are recused
    from attribution from the next round on), or unlink it."""
    with transaction.atomic():
        locked = Party.objects.select_for_update().get(pk=party.pk)
        if locked.delegation_id == (delegation.pk if delegation else None):
            return locked
        before = _code(locked.delegation)
        locked.delegation = delegation
        locked.save(update_fields=["delegation"])
        audit_record(actor=actor, action="party.delegation_changed", object_type="party", object_id=locked.pk,
                     before={"party": locked.code, "delegation": before},
                     after={"party": locked.code, "delegation": _code(delegation)}, reason=reason)
    party.refresh_from_db(fields=["delegation"])
    return locked


def party_create(*, actor: User | None, code: str, name: str, delegation: Delegation | None = None,
                 reason: str = "") -> Party:
    with transaction.atomic():
        party = Party(code=code, name=name, delegation=delegation)
        party.full_clean()
        party.save()
        audit_record(actor=actor, action="party.created", object_type="party", object_id=party.pk,
                     after={"party": code, "name": name, "delegation": _code(delegation)}, reason=reason)
    return party


# --- API tokens ---------------------------------------------------------------
# A token's key is shown once, to the person it is issued to; the database
# keeps only its digest, and no event ever carries the key or the digest.

def _token_facts(token: AuthToken) -> dict:
    return {"username": token.user.get_username(), "token": token.pk,
            "expiry": token.expiry.isoformat() if token.expiry else None}


def token_issue(*, user: User, label: str = "") -> tuple[AuthToken, str]:
    """A new token for `user` (who has just proved who they are), valid for
    settings.TOKEN_TTL: the stored row and the key, which nobody can read
    back later. The user's expired tokens go at the same time."""
    with transaction.atomic():
        AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
        token, key = AuthToken.objects.create(user=user, expiry=settings.TOKEN_TTL, label=label[:200])
        audit_record(actor=user, action="token.issued", object_type="token", object_id=token.pk,
                     after={**_token_facts(token), "label": token.label})
    return token, key


def token_revoke(*, actor: User | None, token: AuthToken, reason: str = "") -> None:
    """Revoke one token (its owner signing out or naming it, or staff)."""
    with transaction.atomic():
        facts = _token_facts(token)
        deleted, _rows = AuthToken.objects.filter(pk=token.pk).delete()
        if deleted:
            audit_record(actor=actor, action="token.revoked", object_type="token", object_id=facts["token"],
                         before=facts, reason=reason)


def tokens_revoke_all(*, actor: User | None, user: User, cause: str, reason: str = "") -> int:
    """Revoke every token of `user`; one tokens.revoked event saying why
    (`cause`: signed_out_everywhere, password_changed, deactivated,
    authority_reduced), none when there was nothing to revoke."""
    with transaction.atomic():
        ids = sorted(AuthToken.objects.select_for_update().filter(user=user).values_list("pk", flat=True))
        if not ids:
            return 0
        AuthToken.objects.filter(pk__in=ids).delete()
        audit_record(actor=actor, action="tokens.revoked", object_type="user", object_id=user.pk,
                     before={"username": user.get_username(), "tokens": ids},
                     after={"username": user.get_username(), "tokens": [], "cause": cause}, reason=reason)
    return len(ids)


# --- Two-factor sign-in ---------------------------------------------------------
# A TOTP authenticator (django-otp's TOTPDevice) and single-use recovery codes
# (its StaticDevice). Events say who enrolled, used a recovery code or failed
# a second factor, and where; never the secret nor a code.

RECOVERY_CODE_COUNT = 10
TOTP_TOLERANCE_STEPS = 1  # a code from the previous or next 30 s still counts (clock drift)


def _totp_match(key_hex: str, code: str) -> int | None:
    """The time step at which `code` is the TOTP of `key_hex`, or None."""
    from django_otp.oath import TOTP

    if not code.isdigit() or len(code) != 6:
        return None
    totp = TOTP(bytes.fromhex(key_hex), step=30, t0=0, digits=6)
    for drift in range(-TOTP_TOLERANCE_STEPS, TOTP_TOLERANCE_STEPS + 1):
        totp.drift = drift
        if totp.token() == int(code):
            return totp.t()
    return None


def _clean_code(code: str | None) -> str:
    return "".join((code or "").split()).lower()


def two_factor_enrol(*, actor: User, key: str, code: str):
    """Confirm `actor`'s new authenticator (its secret `key`, hex, proposed by
    the enrolment page) with a first `code` from it; give them fresh recovery
    codes: (the device, the codes, returned this once). One two_factor.enrolled event. Refused when the
    code is wrong or they already have an authenticator."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    step = _totp_match(key, _clean_code(code))
    if step is None:
        raise ValidationError({"code": [_("That code is not the one your authenticator shows: try the next one.")]})
    with transaction.atomic():
        User.objects.select_for_update().get(pk=actor.pk)
        if TOTPDevice.objects.filter(user=actor, confirmed=True).exists():
            raise ValidationError({"code": [_("Two-factor sign-in is already set up for your account.")]})
        TOTPDevice.objects.filter(user=actor).delete()
        device = TOTPDevice.objects.create(user=actor, name="authenticator", key=key, confirmed=True, last_t=step)
        StaticDevice.objects.filter(user=actor).delete()
        recovery = StaticDevice.objects.create(user=actor, name="recovery codes", confirmed=True)
        codes = [StaticToken.random_token() for _i in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=recovery, token=c) for c in codes])
        audit_record(actor=actor, action="two_factor.enrolled", object_type="user", object_id=actor.pk,
                     after={"username": actor.get_username(), "recovery_codes": len(codes)})
    return device, codes


def second_factor_check(*, actor: User, code: str, via: str):
    """The device that accepts `code` (a TOTP code or an unused recovery
    code) for `actor`, or None. A recovery code is used up and recorded
    (two_factor.recovery_code_used); a refused code is recorded
    (two_factor.failed) with `via` (signin, api). django-otp slows down
    repeated failures per device (each wrong code doubles the wait)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    code = _clean_code(code)
    facts = {"username": actor.get_username(), "via": via}
    with transaction.atomic():
        # A 6-digit code is a TOTP code, anything else a recovery code: a
        # recovery code never counts as a failure against the authenticator
        # (whose wait after failures would then delay the right code).
        totp = code.isdigit() and len(code) == 6
        for device in TOTPDevice.objects.filter(user=actor, confirmed=True) if totp else ():
            if device.verify_token(code):
                return device
        for device in StaticDevice.objects.filter(user=actor, confirmed=True) if not totp else ():
            if device.verify_token(code):
                audit_record(actor=actor, action="two_factor.recovery_code_used", object_type="user",
                             object_id=actor.pk, after={**facts, "recovery_codes_left": device.token_set.count()})
                return device
        audit_record(actor=actor, action="two_factor.failed", object_type="user", object_id=actor.pk, after=facts)
    return None


def user_language_set(*, actor: User, language: str) -> User:
    """The language the actor's emails are written in ("" for the site's).
    A person's own delivery setting, not a change of authority: not audited."""
    if language not in ("", *(code for code, _name in settings.LANGUAGES)):
        raise ValidationError({"language": [_("Must be one of %(choices)s.") % {
            "choices": ", ".join(code for code, _name in settings.LANGUAGES)}]})
    User.objects.filter(pk=actor.pk).update(language=language)
    actor.language = language
    return actor
