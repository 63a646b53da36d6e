"""The task rule and the one retry policy (webinars.jobs): every task of every app retries
the named transient errors and nothing else (tests/billing/test_task_retries.py shows it
on a real task); services queue tasks by registered name and never import a tasks module."""

import ast
from pathlib import Path

from celery import current_app
from django.db import InterfaceError, OperationalError

from billing.errors import BillingError, GatewayError, GatewayUnavailable
from webinars.errors import BookingError
from webinars.jobs import TRANSIENT_ERRORS, AdapterTask

ROOT = Path(__file__).resolve().parent.parent
APPS = ("webinars", "billing", "events")


def _our_tasks() -> dict[str, object]:
    return {name: task for name, task in current_app.tasks.items() if name.split(".")[0] in APPS}


def test_every_task_of_every_app_uses_the_one_retry_policy(settings):
    ours = _our_tasks()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in ours, entry["task"]
    assert len(ours) >= 8
    for name, task in ours.items():
        assert isinstance(task, AdapterTask), name
        assert tuple(task.autoretry_for) == TRANSIENT_ERRORS, name


def test_the_policy_names_transient_errors_only():
    for transient in (GatewayUnavailable, OperationalError, InterfaceError, ConnectionError):
        assert issubclass(transient, TRANSIENT_ERRORS), transient
    for bug in (GatewayError, BillingError, BookingError, KeyError, ValueError, AssertionError):
        assert not issubclass(bug, TRANSIENT_ERRORS), bug


def _product_modules() -> list[Path]:
    return [
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)
    ]


def test_every_task_a_service_queues_is_registered():
    queued = {
        call.args[0].value
        for path in _product_modules()
        for call in _calls(ast.parse(path.read_text()), "enqueue_on_commit")
        if call.args and isinstance(call.args[0], ast.Constant)
    }
    assert queued >= {
        "billing.tasks.process_stripe_event_task",
        "billing.tasks.submit_refund_task",
        "billing.tasks.expire_checkout_task",
        "billing.tasks.render_and_email_invoice_task",
    }
    assert queued <= set(_our_tasks())


def test_services_never_import_a_tasks_module():
    services = [
        path
        for path in _product_modules()
        if path.name == "services.py" or "services" in path.relative_to(ROOT).parts[1:-1]
    ]
    assert services
    for path in services:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(f"{node.module}.{a.name}" for a in node.names)]
            assert not any(name.endswith(".tasks") for name in names), (path, names)
