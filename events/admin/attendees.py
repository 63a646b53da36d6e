"""Staff view of registration: registrants (filters by webinar, region and source, search
by email; read-only, deleting goes through the service so the join link is revoked too),
the registration pages' state and the invitee imports."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from events.models import InviteeImport, Registrant, Registration
from events.services import registration as services
from webinars.admin.base import ReadOnlyAdmin

REGISTRANT_FIELDS = (
    "webinar", "name", "email", "country", "region", "source", "consent_at", "link_sent_at",
    "created_at",
)  # fmt: skip


@admin.register(Registrant)
class RegistrantAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "webinar", "country", "region", "source", "link_sent_at")
    list_filter = (("webinar", admin.RelatedOnlyFieldListFilter), "region", "source")
    search_fields = ("email",)
    list_select_related = ("webinar",)
    readonly_fields = REGISTRANT_FIELDS
    fields = REGISTRANT_FIELDS
    # A million rows: no full count on every page, no exact "x of y" after a search.
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Registrant) -> None:
        services.delete_registrant(obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Registrant]) -> None:
        for registrant in queryset:
            services.delete_registrant(registrant, actor=request.user)


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    list_display = ("webinar", "state", "opened_at", "closed_at")
    list_filter = ("state",)
    search_fields = ("webinar__code", "webinar__title")


@admin.register(InviteeImport)
class InviteeImportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "webinar", "filename", "state", "rows", "imported", "error_count")
    list_filter = ("state",)
    search_fields = ("webinar__code", "filename")
    exclude = ("file",)
