"""What the accounts API shows and takes (accounts.api holds the views)."""

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
