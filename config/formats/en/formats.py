"""Dates and times printed without an explicit format (the admin's columns and read-only
fields) read unambiguously and name their zone: "2027-01-15 14:00 UTC". Times are stored
and shown in UTC (TIME_ZONE); a webinar's own zone is shown where it matters, explicitly."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
