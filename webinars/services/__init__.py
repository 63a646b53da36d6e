"""Every write of the booking core, by capability: `bookings` (the lifecycle), `organisations`
(organisers, billing details, memberships) and `catalogue` (packages and regions). This
package is their public face: callers write `services.book_webinar(...)`; the rules live in
the modules."""

from webinars.services.bookings import (
    book_webinar,
    cancel_booking,
    clear_flag,
    complete_webinar,
    confirm_booking,
    expire_due_holds,
    expire_hold,
    flag_webinar,
    mark_awaiting_funds,
    start_webinar,
)
from webinars.services.catalogue import (
    PACKAGE_FIELDS,
    REGION_FIELDS,
    check_fleet_size,
    set_fleet_size,
    set_package_active,
    update_package,
    update_region,
)
from webinars.services.organisations import (
    add_member,
    create_organisation,
    register_organiser,
    remove_member,
    set_member_role,
    update_organisation,
)

__all__ = [
    "PACKAGE_FIELDS",
    "REGION_FIELDS",
    "add_member",
    "book_webinar",
    "cancel_booking",
    "check_fleet_size",
    "clear_flag",
    "complete_webinar",
    "confirm_booking",
    "create_organisation",
    "expire_due_holds",
    "expire_hold",
    "flag_webinar",
    "mark_awaiting_funds",
    "register_organiser",
    "remove_member",
    "set_fleet_size",
    "set_member_role",
    "set_package_active",
    "start_webinar",
    "update_organisation",
    "update_package",
    "update_region",
]
