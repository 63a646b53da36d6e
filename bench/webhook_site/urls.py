"""The project's urlpatterns plus `/bench/floor/`, the floor of bench/webhooks.py."""

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as project_urlpatterns

# Created by bench/webhooks.py in the scratch database; the same row shape as the event
# inbox (id + jsonb payload), so the floor isolates the cost of the webhook code path.
FLOOR_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_floor "
    "(event_id varchar(128) PRIMARY KEY, payload jsonb NOT NULL)"
)


@csrf_exempt
@require_POST
def floor(request: HttpRequest) -> HttpResponse:
    """Verifies nothing: takes the id from the body and inserts one row (duplicates no-op)."""
    event_id = json.loads(request.body)["id"]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (event_id, payload) VALUES (%s, %s) "
            "ON CONFLICT (event_id) DO NOTHING",
            [event_id, request.body.decode()],
        )
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/floor/", floor, name="bench_floor"), *project_urlpatterns]
