"""Event Services' models, one module per capability; re-exported so callers import
`events.models.X` whatever the module."""

from events.models.attendance import AttendanceSummary
from events.models.attendees import InviteeImport, Registrant, Registration
from events.models.relays import ClusterIncident, JanusProcess, PortLease, RelayCluster, RelayNode
from events.models.staffing import (
    Assignment,
    RosterGeneration,
    StaffMember,
    StaffRole,
    TimeOff,
    WeeklyShift,
)

__all__ = [
    "Assignment",
    "AttendanceSummary",
    "ClusterIncident",
    "InviteeImport",
    "JanusProcess",
    "PortLease",
    "Registrant",
    "Registration",
    "RelayCluster",
    "RelayNode",
    "RosterGeneration",
    "StaffMember",
    "StaffRole",
    "TimeOff",
    "WeeklyShift",
]
