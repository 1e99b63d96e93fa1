"""Dates as operators read them in the admin: ISO order, 24-hour clock, in TIME_ZONE
("2026-12-24 18:00"), short enough for a change list column. (The API writes ISO 8601 with
the offset itself; these formats reach templates only.)"""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
