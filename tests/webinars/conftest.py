import pytest
import redis
from django.conf import settings


@pytest.fixture(autouse=True)
def _fresh_api_throttles():
    """API throttle counters live in Redis and outlive a test: each test starts with none,
    so throttles never make another test flaky (the Celery keys in the same database are
    left alone)."""
    cache = settings.CACHES["api-throttle"]
    client = redis.Redis.from_url(cache["LOCATION"])
    try:
        keys = list(client.scan_iter(match=f"{cache['KEY_PREFIX']}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
