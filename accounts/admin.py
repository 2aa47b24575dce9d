from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import Delegation, Party, User


@admin.register(User)
class CommissionUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Commission", {"fields": ("delegation",)}),)
    list_display = ("username", "delegation", "email", "is_staff")
    list_filter = ("delegation", "groups", "is_staff")


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "delegation")
