"""Event Services operations: relay clusters and their providers.

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
