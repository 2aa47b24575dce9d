"""What the accounts API shows and takes (accounts.api holds the views)."""

from django.db import DatabaseError
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from accounts.models import Party, User
from accounts.roles import roles_of


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField()


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


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
