"""Event Services' tool for the booking core: catalogue, regions and fleet sizes,
organisations and their members, webinars, the fleet ledger and the audit log (read-only).

Every edit goes through a service, so it is validated, locked and audited exactly like the
same change made anywhere else: one audit row per edit, with the staff member as actor.
Times show their zone (a webinar's own zone with its abbreviation, and UTC), money is
formatted from minor units, and the JSON a booking keeps (audience split, cluster plan)
reads as tables.
"""

from webinars.admin import bookings, catalogue, organisations  # noqa: F401 - they register
