"""The Event Services roster in the admin: staff members with their weekly shifts and time
off, and the assignments the assigner placed, each with the reason it chose that person.

Roster edits are audited (one row per save of a member, `events.services.staffing`).
Assignments are read-only here: only the booking's own transactions place, confirm and
release them, except "Swap person", which puts an eligible replacement on one assignment
through `events.services.swaps`."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from events.errors import StaffingError
from events.models import Assignment, StaffMember, StaffRole, TimeOff, WeeklyShift
from events.services import staffing, swaps


class StaffMemberForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        choices=StaffRole.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = StaffMember
        fields = ("user", "display_name", "roles", "languages", "time_zone", "is_active")


class WeeklyShiftInline(admin.TabularInline):
    model = WeeklyShift
    extra = 0
    fields = ("weekday", "starts", "ends")


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0
    fields = ("starts_at", "ends_at", "note")


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    can_delete = False
    fields = readonly_fields = ("webinar", "role", "status", "window", "reason")
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        return (
            super()
            .get_queryset(request)
            .filter(status__in=Assignment.ACTIVE_STATUSES)
            .select_related("webinar")
        )


class RoleFilter(admin.SimpleListFilter):
    title = "role"
    parameter_name = "role"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(StaffRole.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(roles__contains=[self.value()])
        return queryset


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    form = StaffMemberForm
    list_display = ("display_name", "role_list", "language_list", "time_zone", "is_active")
    list_filter = ("is_active", RoleFilter, "time_zone")
    search_fields = ("display_name", "user__email")
    inlines = (WeeklyShiftInline, TimeOffInline, AssignmentInline)

    @admin.display(description="roles")
    def role_list(self, member: StaffMember) -> str:
        labels = dict(StaffRole.choices)
        return ", ".join(str(labels.get(role, role)) for role in member.roles)

    @admin.display(description="languages")
    def language_list(self, member: StaffMember) -> str:
        return ", ".join(member.languages)

    def save_model(self, request: HttpRequest, obj: StaffMember, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Kept on the request: the ModelAdmin instance is shared by every request.
        request.roster_changes = list(form.changed_data)  # type: ignore[attr-defined]

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet, change: bool
    ) -> None:
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            changes = getattr(request, "roster_changes", [])
            changes.append(str(formset.model._meta.verbose_name_plural))
            request.roster_changes = changes  # type: ignore[attr-defined]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        changes = getattr(request, "roster_changes", [])
        if changes or not change:
            staffing.record_roster_change(
                form.instance,
                actor=request.user,
                action="updated" if change else "created",
                changes=changes,
            )


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("webinar", "event_start", "staff", "role", "status", "reason")
    list_filter = ("status", "role", "staff", ("webinar__start_at", admin.DateFieldListFilter))
    search_fields = ("webinar__code", "webinar__title", "staff__display_name")
    list_select_related = ("webinar", "staff")
    readonly_fields = (
        "code", "webinar", "staff", "role", "status", "window", "blocked", "reason",
        "created_at", "updated_at",
    )  # fmt: skip
    ordering = ("webinar__start_at", "role")
    actions = ("swap_person",)

    @admin.display(description="event start (UTC)", ordering="webinar__start_at")
    def event_start(self, assignment: Assignment) -> str:
        return f"{assignment.webinar.start_at:%Y-%m-%d %H:%M}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        swap = path(
            "<int:pk>/swap/",
            self.admin_site.admin_view(self.swap_view),
            name="events_assignment_swap",
        )
        return [swap, *super().get_urls()]

    @admin.action(description="Swap person on the selected assignment", permissions=["change"])
    def swap_person(
        self, request: HttpRequest, queryset: QuerySet[Assignment]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(
                request,
                "Select exactly one assignment to swap its person (one at a time).",
                messages.ERROR,
            )
            return None
        return HttpResponseRedirect(
            reverse("admin:events_assignment_swap", args=[queryset.get().pk])
        )

    def swap_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        assignment = get_object_or_404(
            Assignment.objects.select_related("staff", "webinar", "webinar__organisation"), pk=pk
        )
        error, status = "", 200
        if request.method == "POST":
            raw = request.POST.get("staff", "")
            member = (
                StaffMember.objects.filter(pk=int(raw)).first()
                if raw.isdigit() and len(raw) < 19
                else None
            )
            if member is None:
                error, status = "Choose a replacement from the list.", 400
            else:
                try:
                    new = swaps.swap_assignment(assignment, member, actor=request.user)
                except StaffingError as exc:
                    error, status = exc.message, exc.http_status
                    assignment.refresh_from_db()
                else:
                    self.message_user(
                        request,
                        f"{new.staff.display_name} now works this as "
                        f"{new.get_role_display()}; {assignment.staff.display_name} is released.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:events_assignment_changelist"))
        active = assignment.status in Assignment.ACTIVE_STATUSES
        context = {
            **self.admin_site.each_context(request),
            "title": "Swap person",
            "opts": self.model._meta,
            "assignment": assignment,
            "options": swaps.swap_options(assignment) if active else [],
            "active": active,
            "error": error,
        }
        return TemplateResponse(
            request, "admin/events/assignment/swap.html", context, status=status
        )
