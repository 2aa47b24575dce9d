from rest_framework import serializers

from config.api import StrictCharField
from notifications.models import Notification


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)


class NotificationSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="case_id", allow_null=True, read_only=True, help_text="case id")
    case_reference = serializers.SerializerMethodField()
    kind = StrictCharField(read_only=True, help_text="deadline_reminder, deadline_missed, round_escalated, ...")

    class Meta:
        model = Notification
        fields = ["id", "case", "case_reference", "kind", "subject", "body", "created_at", "read_at"]
        read_only_fields = fields

    def get_case_reference(self, n) -> str | None:
        return n.case_reference or None
