"""The fleet ledger: 15-minute slots per region, and the locking that keeps it honest.

No overselling is enforced in PostgreSQL: every writer locks the slot rows it touches with
`SELECT ... ORDER BY region, slot FOR UPDATE` (one fixed order, so concurrent buyers queue
instead of deadlocking), checks the locked values, then updates them. A CHECK constraint
(`0 <= used <= capacity`) backs this up. Callers must be inside `transaction.atomic()`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from webinars.errors import CapacityError
from webinars.models import FleetSlot, Region

SLOT = timedelta(minutes=15)
DRAIN = timedelta(minutes=30)


def floor_slot(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def ceil_slot(moment: datetime) -> datetime:
    floored = floor_slot(moment)
    return floored if floored == moment else floored + SLOT


def occupancy_window(
    start_at: datetime, duration_minutes: int, warmup_minutes: int
) -> tuple[datetime, datetime]:
    """Slots a webinar occupies: from `start - warmup` to `end + drain`, whole slots."""
    end_at = start_at + timedelta(minutes=duration_minutes)
    return (
        floor_slot(start_at - timedelta(minutes=warmup_minutes)),
        ceil_slot(end_at + DRAIN),
    )


@dataclass(frozen=True)
class SlotNeed:
    """Nodes per region id over one window [slot_from, slot_until)."""

    nodes_by_region: dict[int, int]
    slot_from: datetime
    slot_until: datetime

    @property
    def region_ids(self) -> list[int]:
        return sorted(self.nodes_by_region)

    @property
    def slot_count(self) -> int:
        """Slot rows this need touches: regions x 15-minute slots."""
        return len(self.nodes_by_region) * int((self.slot_until - self.slot_from) / SLOT)


_ENSURE_SQL = """
INSERT INTO webinars_fleetslot (region_id, slot_start, capacity, used)
SELECT r.id, gs, r.fleet_size, 0
FROM webinars_region r
CROSS JOIN generate_series(%s::timestamptz, %s::timestamptz, interval '15 minutes') gs
WHERE r.id = ANY(%s)
ORDER BY 1, 2
ON CONFLICT (region_id, slot_start) DO NOTHING
"""

# Reservers share-lock their regions (in id order) before any slot row, so a fleet resize
# (which takes the region row's update lock) waits for them and they wait for it: a resize
# can never slip between reading a fleet size and committing nodes against it.
_REGION_SHARE_SQL = """
SELECT id FROM webinars_region WHERE id = ANY(%s) ORDER BY id FOR SHARE
"""

_LOCK_SQL = """
SELECT id FROM webinars_fleetslot
WHERE region_id = ANY(%s) AND slot_start >= %s AND slot_start < %s
ORDER BY region_id, slot_start
FOR UPDATE
"""

# Lock, check and update in one round trip, so the slot locks are held for one statement
# and the commit, as in a bare UPDATE. The rows are locked in (region, slot) order by the
# MATERIALIZED CTE before anything is written; nothing is updated when any locked slot is
# short or when some slot rows do not exist yet (the caller creates them and retries).
# The region's current fleet size is the capacity; the row's copy is refreshed on write so
# the CHECK constraint (used <= capacity) guards the same number.
_RESERVE_SQL = """
WITH need AS (
    SELECT * FROM unnest(%s::bigint[], %s::int[]) AS n(region_id, delta)
),
locked AS MATERIALIZED (
    SELECT s.id, s.region_id, r.fleet_size, r.fleet_size - s.used AS free
    FROM webinars_fleetslot s JOIN webinars_region r ON r.id = s.region_id
    WHERE s.region_id = ANY(%s) AND s.slot_start >= %s AND s.slot_start < %s
      -- Lock nothing unless every row exists (an unlocked count, evaluated once before
      -- the scan): rows missing are created by the caller holding no slot lock, since
      -- creating some while holding others deadlocks with an overlapping window's buyer.
      AND (SELECT count(*) FROM webinars_fleetslot c
           WHERE c.region_id = ANY(%s) AND c.slot_start >= %s AND c.slot_start < %s) = %s
    ORDER BY s.region_id, s.slot_start
    FOR UPDATE OF s
),
short AS (
    SELECT DISTINCT l.region_id FROM locked l JOIN need n USING (region_id)
    WHERE l.free < n.delta
),
updated AS (
    UPDATE webinars_fleetslot s SET used = s.used + n.delta, capacity = l.fleet_size
    FROM locked l JOIN need n USING (region_id)
    WHERE s.id = l.id
      AND NOT EXISTS (SELECT 1 FROM short)
      AND (SELECT count(*) FROM locked) = %s
    RETURNING s.id
)
SELECT (SELECT count(*) FROM locked), (SELECT count(*) FROM updated),
       ARRAY(SELECT region_id FROM short)
"""

_APPLY_SQL = """
UPDATE webinars_fleetslot s SET used = s.used + n.delta
FROM unnest(%s::bigint[], %s::int[]) AS n(region_id, delta)
WHERE s.region_id = n.region_id AND s.slot_start >= %s AND s.slot_start < %s
"""


def _ensure_slots(need: SlotNeed) -> None:
    # Rows appear on first use, inserted in (region, slot) order like the locks, so two
    # creators of overlapping windows queue rather than deadlock; ON CONFLICT makes the
    # loser's insert a no-op.
    with connection.cursor() as cursor:
        cursor.execute(_ENSURE_SQL, [need.slot_from, need.slot_until - SLOT, need.region_ids])


def _lock_slots(need: SlotNeed) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, [need.region_ids, need.slot_from, need.slot_until])


def _apply(need: SlotNeed, sign: int) -> None:
    regions = need.region_ids
    deltas = [sign * need.nodes_by_region[r] for r in regions]
    with connection.cursor() as cursor:
        cursor.execute(_APPLY_SQL, [regions, deltas, need.slot_from, need.slot_until])


def reserve(need: SlotNeed) -> None:
    """Commit `need` to the ledger or raise CapacityError, changing nothing."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("fleet.reserve must run inside transaction.atomic()")
    regions = need.region_ids
    with connection.cursor() as cursor:
        cursor.execute(_REGION_SHARE_SQL, [regions])
    params = [
        regions,
        [need.nodes_by_region[r] for r in regions],
        regions,
        need.slot_from,
        need.slot_until,
        regions,
        need.slot_from,
        need.slot_until,
        need.slot_count,
        need.slot_count,
    ]
    for attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(_RESERVE_SQL, params)
            locked, updated, short = cursor.fetchone()
        if short:
            codes = dict(Region.objects.filter(id__in=short).values_list("id", "code"))
            raise CapacityError([codes[r] for r in sorted(short)])
        if locked == need.slot_count:
            assert updated == need.slot_count, (locked, updated)
            return
        if attempt:
            raise RuntimeError(f"fleet slots missing after creation: {locked}/{need.slot_count}")
        _ensure_slots(need)  # nothing is locked: the statement locks all rows or none


def release(need: SlotNeed) -> None:
    """Give `need` back to the ledger (the caller guarantees it was reserved once)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("fleet.release must run inside transaction.atomic()")
    _lock_slots(need)  # same lock order as reserve(), so release never deadlocks with it
    _apply(need, -1)


@dataclass(frozen=True)
class FreeMap:
    """Free nodes per region and slot; a slot without a ledger row has the whole fleet."""

    fleet_size: dict[int, int]
    free: dict[int, dict[datetime, int]]

    def free_at(self, region_id: int, slot: datetime) -> int:
        return self.free[region_id].get(slot, self.fleet_size.get(region_id, 0))


def free_nodes(region_ids: list[int], slot_from: datetime, slot_until: datetime) -> FreeMap:
    """Unlocked read for quotes; the authoritative check is the locked one in reserve()."""
    fleet = dict(Region.objects.filter(id__in=region_ids).values_list("id", "fleet_size"))
    free: dict[int, dict[datetime, int]] = {r: {} for r in region_ids}
    rows = FleetSlot.objects.filter(
        region_id__in=region_ids, slot_start__gte=slot_from, slot_start__lt=slot_until
    ).values_list("region_id", "slot_start", "capacity", "used")
    for region_id, slot_start, _capacity, used in rows:
        free[region_id][slot_start] = fleet.get(region_id, 0) - used
    return FreeMap(fleet_size=fleet, free=free)
