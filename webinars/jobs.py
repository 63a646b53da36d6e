"""Background jobs of every app: the one retry policy, and the one way a service queues a
task.

The task rule. A task (`<app>/tasks.py`, the only tasks module of an app) is an adapter:
ids in, re-fetch, one service call. It imports the services it calls at module top. A
service that needs work done after its transaction commits queues the task by its
registered name with `enqueue_on_commit` and never imports a tasks module: services
reach tasks and tasks reach services, so only one of the two directions can be an import
without the modules forming a cycle (devtools/import_cycles.py counts imports inside
functions too). The names are checked: queueing an unknown name raises at once, inside
the service's transaction, and tests/test_task_rule.py checks every name in the code.

The retry policy. Every task is declared with `base=AdapterTask`. It retries only the
errors named in TRANSIENT_ERRORS, with exponential backoff (5 s doubling up to 10 min,
jittered, 8 retries: about 20 minutes in all); anything else is a bug or a permanent
refusal and fails at once, loudly, in the worker's log. Every task is idempotent (and
late-acked, CELERY_TASK_ACKS_LATE), so running it again after a transient failure is safe.
"""

import smtplib
from typing import Any

import kombu.exceptions
from celery import current_app
from celery.contrib.django.task import DjangoTask
from django import db

from webinars.errors import TransientError

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    # Raised by our own adapters for a dependency that is briefly away: billing's gateway
    # raises GatewayUnavailable when Stripe cannot be reached or rate-limits us.
    TransientError,
    # The database restarted, failed over or dropped the connection.
    db.OperationalError,
    db.InterfaceError,
    # The broker was unreachable while the task queued a follow-up.
    kombu.exceptions.OperationalError,
    # The mail server refused, dropped or timed out the connection (invoice emails).
    ConnectionError,
    TimeoutError,
    smtplib.SMTPServerDisconnected,
)


class AdapterTask(DjangoTask):
    """The base of every task in webinars, billing and events: the one retry policy."""

    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 5
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 8


def enqueue_on_commit(task_name: str, **kwargs: Any) -> None:
    """Queue the task registered as `task_name` (e.g. "billing.tasks.submit_refund_task")
    with `kwargs` once the current transaction commits (at once outside a transaction).
    Pass ids, never instances. Raises celery's NotRegistered for an unknown name."""
    current_app.tasks[task_name].delay_on_commit(**kwargs)
