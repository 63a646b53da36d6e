"""The project's urlpatterns plus `/bench/floor/<token>/seat`, the floor of
bench/admission.py: the same middleware, the same URL shape and request body, matched at
the same depth as the join path (just before the events URLs, whose first patterns are the
join path's), and a JSON answer of the same size as an admission's (BENCH_FLOOR_BYTES),
with no work in between."""

import os

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as project_urlpatterns

_SIZE = int(os.environ.get("BENCH_FLOOR_BYTES", "400"))
_EMPTY = len('{"status": "admitted", "pad": ""}')
_BODY = {"status": "admitted", "pad": "x" * max(0, _SIZE - _EMPTY)}


@csrf_exempt
@require_POST
def floor(request: HttpRequest, token: str) -> JsonResponse:
    return JsonResponse(_BODY)


_EVENTS = next(
    i
    for i, p in enumerate(project_urlpatterns)
    if getattr(getattr(p, "urlconf_module", None), "__name__", "") == "events.urls"
)
urlpatterns = [
    *project_urlpatterns[:_EVENTS],
    path("bench/floor/<str:token>/seat", floor),
    *project_urlpatterns[_EVENTS:],
]
