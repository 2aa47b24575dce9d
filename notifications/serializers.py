from django.conf import settings
from rest_framework import serializers

from config.api import StrictCharField
from notifications.kinds import EMAIL_MODES, KINDS, render
from notifications.models import Notification


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)


class NotificationSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="case_id", allow_null=True, read_only=True, help_text="case id")
    case_reference = serializers.SerializerMethodField()
    kind = StrictCharField(read_only=True, help_text=", ".join(KINDS))
    subject = serializers.SerializerMethodField(help_text="In the request's language (Accept-Language).")
    body = serializers.SerializerMethodField(help_text="In the request's language (Accept-Language).")
    params = serializers.JSONField(read_only=True, allow_null=True,
                                   help_text="What the text is made of (case title, due time, party...); null "
                                             "on notifications stored before texts were rendered per reader.")

    class Meta:
        model = Notification
        fields = ["id", "case", "case_reference", "kind", "subject", "body", "params", "created_at", "read_at"]
        read_only_fields = fields

    def get_case_reference(self, n) -> str | None:
        return n.case_reference or None

    def get_subject(self, n) -> str:
        return render(n)[0]

    def get_body(self, n) -> str:
        return render(n)[1]


class PreferenceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(KINDS), read_only=True)
    label = serializers.CharField(read_only=True, help_text="The kind in words, in the request's language.")
    act = serializers.BooleanField(read_only=True, help_text="True: the reader has something to do.")
    default = serializers.ChoiceField(choices=list(EMAIL_MODES), read_only=True)
    email = serializers.ChoiceField(choices=list(EMAIL_MODES), read_only=True,
                                    help_text="immediate: one email each; digest: in the daily digest; "
                                              "off: listed in the app only.")


class PreferencesSerializer(serializers.Serializer):
    language = serializers.CharField(read_only=True, help_text="Language of your emails; empty: the site's.")
    kinds = PreferenceSerializer(many=True, read_only=True)


class PreferencesUpdateSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=[("", "the site's default")] + [code for code, _name in settings.LANGUAGES],
                                       required=False, help_text="Language of your emails; empty: the site's.")
    email = serializers.DictField(child=serializers.ChoiceField(choices=list(EMAIL_MODES)), required=False,
                                  help_text="kind -> immediate | digest | off; kinds not named are unchanged.")
