"""The project's settings, with the bench URLconf that adds the floor view."""

from config.settings import *  # noqa: F403 - the real settings, unchanged but for the URLconf

ROOT_URLCONF = "bench.admission_site.urls"
