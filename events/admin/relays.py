"""Staff view of relay clusters: states, nodes and their health, incidents, and the
actions that call the services (provision now, tear down now, replace node)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from events.models import ClusterIncident, JanusProcess, RelayCluster, RelayNode
from events.services import clusters, monitoring, teardown
from webinars.jobs import enqueue_on_commit

NODE_FIELDS = (
    "request_key", "region", "role", "index", "generation", "state", "provider_id", "parent",
    "endpoint", "healthy", "health_reason", "media_age_ms", "last_health_at", "started_at",
    "terminated_at",
)  # fmt: skip


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RelayNodeInline(ReadOnlyInline):
    model = RelayNode
    fields = readonly_fields = NODE_FIELDS


class IncidentInline(ReadOnlyInline):
    model = ClusterIncident
    fk_name = "cluster"
    fields = readonly_fields = ("created_at", "kind", "node", "detail", "resolved")


class RegionFilter(admin.SimpleListFilter):
    title = "region"
    parameter_name = "region"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        regions = RelayNode.objects.order_by("region").values_list("region", flat=True).distinct()
        return [(r, r) for r in regions]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            field = "nodes__region" if queryset.model is RelayCluster else "region"
            return queryset.filter(**{field: self.value()}).distinct()
        return queryset


@admin.register(RelayCluster)
class RelayClusterAdmin(admin.ModelAdmin):
    list_display = ("code", "state", "provider", "planned_nodes", "provision_after", "ready_at")
    list_filter = ("state", "provider", RegionFilter)
    search_fields = ("code", "webinar__title")
    inlines = (RelayNodeInline, IncidentInline)
    actions = ("provision_now", "tear_down_now")
    readonly_fields = (
        *(f.name for f in RelayCluster._meta.get_fields() if f.concrete and not f.auto_created),
        "attendees",
    )

    @admin.display(description="Attendees")
    def attendees(self, obj: RelayCluster) -> str:
        """Event Services watch the join path from here (events.views.attendance)."""
        url = reverse("events:attendance", args=[obj.code])
        return format_html('<a href="{}">Live dashboard and attendance report</a>', url)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Provision now")
    def provision_now(self, request: HttpRequest, queryset: QuerySet[RelayCluster]) -> None:
        """Queues provisioning whatever the time; a cluster another worker holds is left to
        it (the claim decides), a final or ready one is skipped."""
        queued = 0
        for cluster in queryset:
            if cluster.state in (RelayCluster.State.PLANNED, RelayCluster.State.PROVISIONING):
                enqueue_on_commit("events.tasks.provision_cluster_task", cluster_id=cluster.pk)
                queued += 1
        self.message_user(request, f"Provisioning queued for {queued} cluster(s).")

    @admin.action(description="Tear down now")
    def tear_down_now(self, request: HttpRequest, queryset: QuerySet[RelayCluster]) -> None:
        done = 0
        for cluster in queryset:
            if not cluster.is_final:
                teardown.teardown_cluster(cluster.pk, actor=request.user, reason="staff")
                done += 1
        self.message_user(request, f"Tore down {done} cluster(s).")


@admin.register(RelayNode)
class RelayNodeAdmin(admin.ModelAdmin):
    list_display = ("request_key", "state", "region", "role", "healthy", "media_age_ms")
    list_filter = ("state", "role", "region", "cluster__state")
    search_fields = ("request_key", "cluster__code")
    readonly_fields = ("cluster", *NODE_FIELDS)
    actions = ("replace_node",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Replace node (from the spare)")
    def replace_node(self, request: HttpRequest, queryset: QuerySet[RelayNode]) -> None:
        for node in queryset.select_related("cluster"):
            if node.state not in RelayNode.UP_STATES:
                self.message_user(
                    request, f"{node.request_key} is {node.state}: not replaced.", messages.WARNING
                )
                continue
            cluster = clusters.load(node.cluster_id)
            filler = monitoring.replace_node(
                cluster, node, reason="replaced by staff", actor=request.user, rewire_after=True
            )
            if filler is None:
                self.message_user(request, f"No spare left for {node.request_key}.", messages.ERROR)
            else:
                self.message_user(request, f"{node.request_key} replaced by {filler.request_key}.")


@admin.register(ClusterIncident)
class ClusterIncidentAdmin(admin.ModelAdmin):
    list_display = ("created_at", "cluster", "kind", "node", "resolved")
    list_filter = ("kind", "resolved")
    readonly_fields = ("cluster", "node", "kind", "detail", "resolved", "resolved_at", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


admin.site.register(JanusProcess)
