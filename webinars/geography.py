"""Where an organisation is, as the booking form's starting point: the main time zone of
its country and the audience preset of its part of the world.

Time zones come from the IANA database's `zone.tab` (country code -> zones), the copy
shipped in the `tzdata` package (a dependency, so every install has the same data), else
the system's (`zoneinfo.TZPATH`). Python's `zoneinfo` has no country map of its own. For a
country with several zones, `zone.tab` lists them roughly from east to west, not by
population, so the first one is wrong for a few large countries (Canada would start in
St John's, Brazil in Noronha); `MAIN_ZONES` names the zone most people there use.

Countries are the ones of `webinars.countries` (ISO 3166-1 from pycountry, plus XK), read
through its `normalise_country`, so "uk" or "EL" start where GB and Greece do. Neither
pycountry nor django-countries knows time zones or continents, and the IANA database is
the source of zones anyway; `zone.tab` is keyed by the same ISO codes. Kosovo (XK, not
in ISO, so not in `zone.tab`) keeps Serbia's zone, as the IANA database does.
"""

import importlib.resources
import zoneinfo
from decimal import Decimal
from functools import cache
from pathlib import Path

from webinars.countries import EU_MEMBER_STATES, normalise_country

MAIN_ZONES = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UZ": "Asia/Tashkent",
    "XK": "Europe/Belgrade",
}

SOUTH_AMERICA = frozenset(
    "AR BO BR CL CO EC FK GF GS GY PE PY SR UY VE".split()  # noqa: SIM905
)
# Zone-name areas (the part before "/") and the preset whose regions serve them best.
# Africa and the Atlantic islands are closest to the European regions.
AREA_PRESETS = {
    "America": "north-america",
    "Europe": "europe",
    "Africa": "europe",
    "Atlantic": "europe",
    "Asia": "asia-pacific",
    "Australia": "asia-pacific",
    "Pacific": "asia-pacific",
    "Indian": "asia-pacific",
}
PRESET_OVERRIDES = {"BM": "north-america"}  # Bermuda's zone is Atlantic/Bermuda
DEFAULT_PRESET = "global"


def _zone_tab_text() -> str:
    try:
        return (
            importlib.resources.files("tzdata")
            .joinpath("zoneinfo", "zone.tab")
            .read_text(encoding="utf-8")
        )
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""


@cache
def country_zones() -> dict[str, str]:
    """Country code -> its main time zone."""
    zones: dict[str, str] = {}
    for line in _zone_tab_text().splitlines():
        if not line or line.startswith("#"):
            continue
        columns = line.split("\t")
        if len(columns) >= 3:
            zones.setdefault(columns[0], columns[2])
    return zones | MAIN_ZONES


def _degrees(text: str, width: int) -> Decimal:
    """`+DDMM` / `+DDMMSS` (latitude, width 2) or `+DDDMM` / `+DDDMMSS` (longitude, 3)."""
    sign = -1 if text[0] == "-" else 1
    digits = text[1:]
    degrees, minutes, seconds = digits[:width], digits[width : width + 2], digits[width + 2 :]
    value = Decimal(degrees) + Decimal(minutes) / 60 + Decimal(seconds or 0) / 3600
    return sign * value


@cache
def zone_positions() -> dict[str, tuple[Decimal, Decimal]]:
    """IANA zone -> (latitude, longitude) of its reference city, from `zone.tab`."""
    positions: dict[str, tuple[Decimal, Decimal]] = {}
    for line in _zone_tab_text().splitlines():
        columns = line.split("\t")
        if line.startswith("#") or len(columns) < 3:
            continue
        where = columns[1]
        split = max(where.rfind("+"), where.rfind("-"))
        positions[columns[2]] = (_degrees(where[:split], 2), _degrees(where[split:], 3))
    return positions


def country_position(country: str) -> tuple[Decimal, Decimal] | None:
    """Where `country` is, roughly: the reference city of its main time zone (New York for
    the US, Sydney for Australia). Good enough to pick the nearest audience region."""
    zone = country_zones().get(normalise_country(country))
    return zone_positions().get(zone) if zone else None


def main_time_zone(country: str) -> str | None:
    """The time zone most of `country` lives in, if it is one this Python knows."""
    zone = country_zones().get(normalise_country(country))
    if zone is None:
        return None
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    return zone


def audience_preset(country: str) -> str:
    """The audience preset for an organisation in `country`: EU member states -> europe,
    South America -> south-america, otherwise by the area of its main zone (the rest of
    the Americas -> north-america, Asia and Oceania -> asia-pacific); global if unknown."""
    country = normalise_country(country)
    if country in PRESET_OVERRIDES:
        return PRESET_OVERRIDES[country]
    if country in EU_MEMBER_STATES:
        return "europe"
    if country in SOUTH_AMERICA:
        return "south-america"
    area = (country_zones().get(country) or "").split("/")[0]
    return AREA_PRESETS.get(area, DEFAULT_PRESET)
