"""Event Services: relay clusters and their providers.

The provider layer's own bookkeeping lives here: the local Janus provider's processes and
the port blocks they lease (events/providers/janus.py is the only writer).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class JanusProcess(models.Model):
    """One local Janus process, i.e. one relay node of the `janus` provider. The row is the
    node's identity (its request key) and how any worker finds the process again."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        DRAINING = "draining", _("Draining")
        FAILED = "failed", _("Failed")
        TERMINATED = "terminated", _("Terminated")

    request_key = models.CharField(max_length=200, unique=True)
    webinar_code = models.CharField(max_length=12, db_index=True)
    region = models.CharField(max_length=20)
    role = models.CharField(max_length=10)
    state = models.CharField(max_length=12, choices=State.choices, default=State.FAILED)
    pid = models.PositiveIntegerField(null=True, blank=True)
    folder = models.CharField(max_length=500)
    secret = models.CharField(max_length=64)  # room / mountpoint secret
    parent_key = models.CharField(max_length=200, blank=True)  # set by wire(); "" = unfed
    fed_by_studio = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["request_key"]

    def __str__(self) -> str:
        return f"{self.request_key} ({self.state})"


class PortLease(models.Model):
    """A block of consecutive loopback ports held by one Janus process. The unique block
    number means two processes can never be given the same ports; the lease is deleted
    only once its process is confirmed dead, so ports are never reused while it lives."""

    block = models.PositiveIntegerField(unique=True)
    process = models.OneToOneField(JanusProcess, on_delete=models.CASCADE, related_name="lease")
    leased_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["block"]

    def __str__(self) -> str:
        return f"block {self.block} -> {self.process.request_key}"


class RelayCluster(models.Model):
    """The relay cluster of one webinar: planned when the booking is confirmed, provisioned
    from `start - warmup`, live during the event, torn down at `end + drain` (or at once
    when the booking is cancelled). Only events.services write it."""

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        PROVISIONING = "provisioning", _("Provisioning")
        READY = "ready", _("Ready")
        LIVE = "live", _("Live")
        DRAINING = "draining", _("Draining")
        TORN_DOWN = "torn_down", _("Torn down")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINAL_STATES = (State.TORN_DOWN, State.CANCELLED)
    ACTIVE_STATES = (State.READY, State.LIVE)  # what the monitor watches

    webinar = models.OneToOneField(
        "webinars.Webinar", on_delete=models.PROTECT, related_name="relay_cluster"
    )
    code = models.CharField(max_length=12, unique=True)  # the webinar's code: providers key by it
    provider = models.CharField(max_length=20)
    state = models.CharField(max_length=14, choices=State.choices, default=State.PLANNED)
    planned_nodes = models.PositiveIntegerField(help_text=_("Nodes the provider really runs."))
    sized_nodes = models.PositiveIntegerField(help_text=_("Nodes of the booking's sizing."))
    groups = models.JSONField(default=list, help_text=_("[{region, role, planned, actual}]"))
    cascade = models.JSONField(default=dict, help_text=_("Planned child key -> parent key."))
    scale_note = models.CharField(max_length=300, blank=True)
    provision_after = models.DateTimeField(help_text=_("start - warmup"))
    claimed_by = models.CharField(max_length=200, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # heartbeat of the claim holder
    provisioning_started_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    torn_down_at = models.DateTimeField(null=True, blank=True)
    late_alerted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provision_after"]
        indexes = [
            # Beat's provisioning sweep: planned clusters due, provisioning ones gone stale.
            models.Index(fields=["state", "provision_after"], name="cluster_state_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.state})"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES


class RelayNode(models.Model):
    """One node of a cluster as the control plane sees it. The request key is the node's
    identity at the provider; a replacement is a new row with a new key (`#generation`)."""

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        PENDING = "pending", _("Booting")
        SERVING = "serving", _("Serving")
        STANDBY = "standby", _("Standby")  # a booted spare, unwired until promoted
        FAILED = "failed", _("Failed")
        DRAINING = "draining", _("Draining")
        TERMINATED = "terminated", _("Terminated")

    UP_STATES = (State.SERVING, State.STANDBY)
    LIVE_STATES = (State.PLANNED, State.PENDING, State.SERVING, State.STANDBY, State.DRAINING)

    cluster = models.ForeignKey(RelayCluster, on_delete=models.CASCADE, related_name="nodes")
    region = models.CharField(max_length=20)
    role = models.CharField(max_length=10)  # events.providers.base.Role
    index = models.PositiveIntegerField()  # the slot within its region and role
    generation = models.PositiveIntegerField(default=1)  # 2, 3...: replacements of the slot
    request_key = models.CharField(max_length=200, unique=True)
    provider_id = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PLANNED)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    endpoint = models.CharField(max_length=200, blank=True)
    healthy = models.BooleanField(null=True)
    health_reason = models.CharField(max_length=300, blank=True)
    media_age_ms = models.PositiveIntegerField(null=True, blank=True)
    last_health_at = models.DateTimeField(null=True, blank=True)
    # When the coordinator queued this planned node's creation on its region's queue; a
    # planned node whose request is older than RELAY_REGION_DISPATCH_TIMEOUT_S is queued again.
    requested_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)  # first seen running
    terminated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["region", "role", "index", "generation"]
        indexes = [
            # Progress bar, monitor and teardown: a cluster's nodes in given states.
            models.Index(fields=["cluster", "state"], name="relaynode_cluster_state_idx"),
        ]
        constraints = [
            # One generation per slot: a retried replacement can never add a second node.
            models.UniqueConstraint(
                fields=["cluster", "region", "role", "index", "generation"],
                name="relaynode_slot_generation_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_key} ({self.state})"

    @property
    def code(self) -> str:  # what the audit trail names
        return self.request_key


class ClusterIncident(models.Model):
    class Kind(models.TextChoices):
        BOOT_FAILED = "boot_failed", _("Boot failed")
        UNHEALTHY = "unhealthy", _("Node unhealthy")
        NO_SPARE = "no_spare", _("No spare left")
        NOT_READY = "not_ready", _("Not ready by the start")
        PROVIDER_ERROR = "provider_error", _("Provider error")
        LEAK = "leak", _("Resources left after teardown")

    cluster = models.ForeignKey(RelayCluster, on_delete=models.CASCADE, related_name="incidents")
    node = models.ForeignKey(
        RelayNode, on_delete=models.SET_NULL, null=True, blank=True, related_name="incidents"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.CharField(max_length=500)
    resolved = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The panel's and admin's incident list of a cluster, newest last.
            models.Index(fields=["cluster", "created_at"], name="incident_cluster_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.detail[:60]}"

    @property
    def code(self) -> str:
        return f"{self.cluster.code}#{self.pk}"
