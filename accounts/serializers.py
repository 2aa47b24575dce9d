"""What the accounts API shows and takes (accounts.api holds the views)."""

from django.contrib.auth import authenticate
from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from accounts.models import AuthToken, Party, User
from accounts.roles import roles_of


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(
        required=False, allow_blank=True, max_length=64, write_only=True,
        help_text="The second factor, where REQUIRE_2FA is on and for the chair, members, auditors and staff: "
                  "the 6-digit code of one's authenticator app, or one unused recovery code (used up by it).")

    def validate(self, attrs):
        # The Django request (not DRF's), so that the authentication backends
        # and sign-in protections see who is asking.
        request = self.context["request"]
        user = authenticate(request=getattr(request, "_request", request),
                            username=attrs["username"], password=attrs["password"])
        if user is None:
            raise serializers.ValidationError(_("Unable to log in with provided credentials."),
                                              code="authorization")
        attrs["user"] = user
        return attrs


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once: send it as `Authorization: Token <token>`.")
    expiry = serializers.DateTimeField(allow_null=True, help_text="When the token stops working.")


class AuthTokenSerializer(serializers.ModelSerializer):
    """One of one's own tokens, as listed: never the key nor its digest."""

    current = serializers.SerializerMethodField(help_text="Whether this request was made with this token.")

    class Meta:
        model = AuthToken
        fields = ["id", "label", "created", "expiry", "current"]
        read_only_fields = fields

    def get_current(self, token) -> bool:
        used = getattr(self.context.get("request"), "auth", None)
        return isinstance(used, AuthToken) and used.pk == token.pk


class MeSerializer(serializers.ModelSerializer):
    # The delegation's code, not its id: the code is what ballots and parties speak.
    delegation = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["username", "delegation", "roles"]
        read_only_fields = fields

    def get_roles(self, user) -> list[str]:
        return sorted(roles_of(user))


class PartySerializer(serializers.ModelSerializer):
    class Meta:
        model = Party
        fields = ["code", "name"]
        read_only_fields = fields


class PartyCodeChoiceField(serializers.CharField):
    """A party's code, or one of `extra` (such as "abstain"). The service
    checks it against the parties table; the schema lists the parties as
    they are when it is generated, so a client sees the codes it may send."""

    def __init__(self, *, extra: tuple[str, ...] = (), **kwargs):
        self.extra = tuple(extra)
        kwargs.setdefault("max_length", Party._meta.get_field("code").max_length)
        super().__init__(**kwargs)


class PartyCodeChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = PartyCodeChoiceField

    def map_serializer_field(self, auto_schema, direction):
        try:
            codes = list(Party.objects.order_by("code").values_list("code", flat=True))
        except DatabaseError:
            # No parties table to read (the deploy check before the first
            # migrate, a schema generated offline): the codes are data, so
            # the field's help text says what it takes (/api/v1/parties/ lists them).
            codes = []
        if not codes:
            return {"type": "string", "maxLength": self.target.max_length}
        return {"type": "string", "enum": codes + list(self.target.extra)}
