"""Users, organisations and their members: edits through the organisation services."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from webinars import services
from webinars.admin.base import (
    EditOnlyMixin,
    changed_fields,
    run_service,
)
from webinars.forms import OrganisationForm
from webinars.models import (
    Membership,
    Organisation,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # Moving a membership to another user is a removal and an addition.
            self.fields["user"].disabled = True


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(EditOnlyMixin, admin.ModelAdmin):
    """Billing details (validated like the organiser's own page) and members. Organisations
    are created by their owner at sign-up, and never deleted (invoices refer to them)."""

    form = OrganisationForm
    fields = list(Organisation.BILLING_FIELDS)
    list_display = ["legal_name", "country", "vat_id", "billing_email", "created_at"]
    list_filter = ["country"]
    search_fields = ["legal_name", "vat_id", "billing_email"]
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        changed = changed_fields(form, Organisation.BILLING_FIELDS)
        if changed:
            # The bound form already copied the input onto `obj`: the service compares
            # against the stored row, so its audit row records what changed.
            stored = Organisation.objects.get(pk=obj.pk)
            services.update_organisation(stored, actor=request.user, **changed)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        formset.save(commit=False)  # sorts the rows into new, changed and deleted ones
        actor = request.user
        for membership in formset.deleted_objects:
            run_service(request, services.remove_member, membership, actor=actor)
        for membership, _fields in formset.changed_objects:
            run_service(
                request, services.set_member_role, membership, role=membership.role, actor=actor
            )
        for membership in formset.new_objects:
            run_service(
                request,
                services.add_member,
                form.instance,
                user=membership.user,
                role=membership.role,
                actor=actor,
            )
