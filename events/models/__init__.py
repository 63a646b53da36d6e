"""Event Services' models, one module per capability; re-exported so callers import
`events.models.X` whatever the module."""

from events.models.attendees import InviteeImport, Registrant, Registration
from events.models.relays import ClusterIncident, JanusProcess, PortLease, RelayCluster, RelayNode

__all__ = [
    "ClusterIncident",
    "InviteeImport",
    "JanusProcess",
    "PortLease",
    "Registrant",
    "Registration",
    "RelayCluster",
    "RelayNode",
]
