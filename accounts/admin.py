"""The admin for people, delegations and parties.

Authority (roles, delegation, active/staff/superuser, a party's delegation)
changes only through accounts.services, which write the audit events; the
admin's forms collect the wanted values and a reason, and call them. Role
groups and direct permissions are not editable here: a role's permissions are
declared in accounts.roles and applied after every migrate.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import AuthToken, Delegation, Party, User
from accounts.roles import ALL_ROLES

admin.site.unregister(Group)
# django-otp's own admin pages show each authenticator's secret (as a QR code)
# and the recovery codes, and let staff add a device to anyone: a staff member
# could then pass a member's second factor. Not registered: a person enrols
# their own authenticator on /account/two-factor/.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(Group)
class RoleGroupAdmin(admin.ModelAdmin):
    """Read-only: granting a permission to a role would bypass the trail."""

    list_display = ("name",)
    readonly_fields = ("name", "permissions")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuthorityForm(forms.ModelForm):
    """What the admin may change about a person's authority, with a reason."""

    roles = forms.MultipleChoiceField(choices=[(r, r) for r in ALL_ROLES], required=False,
                                      widget=forms.CheckboxSelectMultiple)
    authority_reason = forms.CharField(label="Reason for a change of authority", required=False,
                                       widget=forms.Textarea(attrs={"rows": 2}),
                                       help_text="Written into the decision trail with the change.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = list(self.instance.groups.filter(name__in=ALL_ROLES)
                                                .values_list("name", flat=True))

    def clean(self):
        data = super().clean()
        changed = set(self.changed_data) & {"roles", "delegation", "represents", *services.FLAGS}
        if self.instance.pk and changed and not (data.get("authority_reason") or "").strip():
            self.add_error("authority_reason", "Say why: a change of authority goes into the decision trail.")
        return data


@admin.register(User)
class CommissionUserAdmin(UserAdmin):
    form = type("UserAuthorityForm", (AuthorityForm, UserAdmin.form), {})
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Authority (audited)", {"fields": ("delegation", "represents", "roles", "is_active", "is_staff", "is_superuser",
                                            "authority_reason")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("username", "delegation", "email", "is_staff", "is_active")
    list_filter = ("delegation", "groups", "is_staff", "is_active")
    filter_horizontal = ()

    def save_model(self, request, obj, form, change):
        # The admin's view runs this and save_related in one transaction.
        if not change:
            # The add form: username and password only; authority follows on the change page.
            super().save_model(request, obj, form, change)
            services.user_created_record(actor=request.user, user=obj)
            return
        stored = User.objects.get(pk=obj.pk)
        wanted_delegation = obj.delegation
        wanted_party = obj.represents
        wanted_flags = {f: getattr(obj, f) for f in services.FLAGS}
        # Save the rest of the row as it was for authority; the service changes that.
        obj.delegation = stored.delegation
        obj.represents = stored.represents
        for field in services.FLAGS:
            setattr(obj, field, getattr(stored, field))
        super().save_model(request, obj, form, change)
        services.user_authority_set(actor=request.user, user=obj, roles=form.cleaned_data.get("roles", []),
                                    delegation=wanted_delegation, flags=wanted_flags, represents=wanted_party,
                                    reason=form.cleaned_data.get("authority_reason", "").strip())

    def save_related(self, request, form, formsets, change):
        # Groups are not on the form (roles are, through the service): nothing m2m to save.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


class PartyForm(forms.ModelForm):
    authority_reason = forms.CharField(label="Reason", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                       help_text="Written into the decision trail with a change of delegation.")

    class Meta:
        model = Party
        fields = ("code", "name", "delegation")

    def clean(self):
        data = super().clean()
        if self.instance.pk and "delegation" in self.changed_data and not (data.get("authority_reason") or "").strip():
            self.add_error("authority_reason", "Say why: linking a party to a delegation decides recusal.")
        return data


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    form = PartyForm
    list_display = ("code", "name", "delegation")

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("authority_reason", "").strip()
        if not change:
            created = services.party_create(actor=request.user, code=obj.code, name=obj.name,
                                            delegation=obj.delegation, reason=reason)
            obj.pk = created.pk
            return
        wanted = obj.delegation
        obj.delegation = Party.objects.get(pk=obj.pk).delegation
        obj.save(update_fields=["code", "name"])
        services.party_delegation_set(actor=request.user, party=obj, delegation=wanted, reason=reason)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    """Tokens as facts (whose, since when, until when), never a key or its
    digest: staff can revoke one (audited), not read or make one."""

    list_display = ("id", "user", "label", "created", "expiry")
    list_filter = ("expiry",)
    search_fields = ("user__username",)
    fields = ("id", "user", "label", "created", "expiry")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        services.token_revoke(actor=request.user, token=obj, reason="revoked in the admin")

    def delete_queryset(self, request, queryset):
        for token in queryset.select_related("user"):
            services.token_revoke(actor=request.user, token=token, reason="revoked in the admin")
