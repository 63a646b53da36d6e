"""The Event Services roster as the assigner and the quote read it: active members, their
roles, languages, zone, weekly shift pattern and time off.

The roster changes a few times a day; holds read it many times a second. So each process
keeps one copy, keyed on the roster generation (`events.models.RosterGeneration`, bumped
by PostgreSQL triggers in the transaction of any roster write, whatever path writes it).
A caller reads the generation in the same statement as the changing part (assignments,
see `events.selectors.staffing.load_candidates`) and asks for the roster *as of that
generation*: the copy is used when its key matches, else the roster is read again in one
statement that returns its own key. Keys carry the generation row's `xmin`, so a copy
read inside a transaction that later rolled back can never match a committed state.
"""

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache

from django.db import connection

Interval = tuple[datetime, datetime]
MEMO_SIZE = 1024  # date pairs remembered per member


@dataclass(frozen=True)
class RosterEntry:
    id: int
    name: str
    roles: frozenset[str]
    languages: frozenset[str]
    time_zone: str
    pattern: tuple[tuple[int, time, time], ...]  # (weekday, starts, ends), sorted
    time_off: tuple[Interval, ...]
    # The shift pattern as UTC stretches between two local dates, as holds asked for them
    # (computed by the staffing selector; a pure function of the entry, so it lives as
    # long as this copy of the roster does).
    memo: dict[tuple[date, date], tuple[Interval, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def remember(
        self, between: tuple[date, date], stretches: tuple[Interval, ...]
    ) -> tuple[Interval, ...]:
        if len(self.memo) >= MEMO_SIZE:
            self.memo.clear()
        self.memo[between] = stretches
        return stretches


# The generation key, then one row per active member (a single row of NULLs when there is
# none), one statement so the key and the rows come from one snapshot.
_ROSTER_SQL = """
SELECT (SELECT g.value || ':' || g.xmin FROM events_rostergeneration g WHERE g.id = 1),
  m.id, m.display_name, m.roles, m.languages, m.time_zone,
  (SELECT coalesce(string_agg(s.weekday || ' ' || s.starts || ' ' || s.ends, ','
                             ORDER BY s.weekday, s.starts, s.ends), '')
     FROM events_weeklyshift s WHERE s.staff_id = m.id),
  (SELECT coalesce(json_agg(json_build_array(t.starts_at, t.ends_at) ORDER BY t.starts_at),
                   '[]')
     FROM events_timeoff t WHERE t.staff_id = m.id)
FROM (SELECT 1) AS one LEFT JOIN events_staffmember m ON m.is_active
ORDER BY m.id
"""

_lock = threading.Lock()
_copy: tuple[str, tuple[RosterEntry, ...]] | None = None


@lru_cache(maxsize=1024)
def _shift_pattern(text: str) -> tuple[tuple[int, time, time], ...]:
    """'0 09:00:00 17:00:00,1 ...' (the query's text) as sorted (weekday, starts, ends)."""
    pattern = []
    for item in filter(None, text.split(",")):
        day, starts, ends = item.split(" ")
        pattern.append((int(day), time.fromisoformat(starts), time.fromisoformat(ends)))
    return tuple(sorted(pattern))


def _read() -> tuple[str | None, tuple[RosterEntry, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(_ROSTER_SQL)
        rows = cursor.fetchall()
    entries = tuple(
        RosterEntry(
            id=id_,
            name=name,
            roles=frozenset(roles),
            languages=frozenset(languages),
            time_zone=zone,
            pattern=_shift_pattern(shifts),
            time_off=tuple(
                (datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in leave
            ),
        )
        for _key, id_, name, roles, languages, zone, shifts, leave in rows
        if id_ is not None
    )
    return (rows[0][0] if rows else None), entries


def roster_as_of(generation: str | None) -> tuple[str | None, tuple[RosterEntry, ...]]:
    """The active roster and the generation it was read at: this process's copy when it
    is of `generation`, else a fresh read (kept for the next caller). The caller compares
    the generation returned with its own and reads again when they differ."""
    global _copy
    copy = _copy
    if generation is not None and copy is not None and copy[0] == generation:
        return copy
    key, entries = _read()
    if key is not None:
        with _lock:
            _copy = (key, entries)
    return key, entries
