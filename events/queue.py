"""How services queue Celery work without importing `events.tasks` (tasks import services,
never the reverse): by the task's registered name, after the caller's transaction commits."""

from typing import Any

from django.db import transaction

from config.celery import app

PROVISION = "events.tasks.provision_cluster_task"
TEARDOWN = "events.tasks.teardown_cluster_task"
PLAN = "events.tasks.plan_cluster_task"


def enqueue(task_name: str, **kwargs: Any) -> None:
    transaction.on_commit(lambda: app.tasks[task_name].delay(**kwargs))
