"""The REST API for organisers: views, and the guards named in settings.REST_FRAMEWORK.

Empty on purpose: settings import `webinars.api.guards` while DRF is still loading, so
importing this package must not import the views."""
