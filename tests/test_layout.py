"""Every app follows one layout: packages instead of suffix-named modules, one urls.py and
one tasks.py per app, each app included once; and every public URL keeps its path and
name whatever the layout."""

import ast
import uuid
from pathlib import Path

import pytest
from django.urls import resolve, reverse

ROOT = Path(__file__).resolve().parent.parent
APPS = ("webinars", "billing", "events")
CODE = "W-ABCDEFGH"
DOC = uuid.UUID("12345678-1234-5678-1234-567812345678")

PUBLIC_URLS = [
    ("pricing", [], "/"),
    ("signup", [], "/accounts/signup/"),
    ("login", [], "/accounts/login/"),
    ("logout", [], "/accounts/logout/"),
    ("password_reset", [], "/accounts/password-reset/"),
    ("password_reset_done", [], "/accounts/password-reset/done/"),
    ("password_reset_confirm", ["MQ", "set-password"], "/accounts/reset/MQ/set-password/"),
    ("password_reset_complete", [], "/accounts/reset/done/"),
    ("webinars:dashboard", [], "/webinars/"),
    ("webinars:book", [], "/webinars/new/"),
    ("webinars:quote", [], "/webinars/quote/"),
    ("webinars:detail", [CODE], f"/webinars/{CODE}/"),
    ("webinars:organisation", [], "/organisation/"),
    ("billing:pay", [CODE], f"/billing/webinars/{CODE}/pay/"),
    ("billing:return", [CODE], f"/billing/webinars/{CODE}/return/"),
    ("billing:payment_status", [CODE], f"/billing/webinars/{CODE}/payment-status/"),
    ("billing:panel", [CODE], f"/billing/webinars/{CODE}/payment-panel/"),
    ("billing:cancel", [CODE], f"/billing/webinars/{CODE}/cancel/"),
    ("billing:stripe_webhook", [], "/billing/stripe/webhook/"),
    ("invoices:pdf", [DOC], f"/billing/invoices/{DOC}/pdf/"),
    ("finance:revenue", [], "/finance/"),
    ("finance:export", ["journal"], "/finance/exports/journal/"),
    ("api-packages", [], "/api/v1/packages/"),
    ("api-quote", [], "/api/v1/quotes/"),
    ("api-webinars", [], "/api/v1/webinars/"),
    ("api-webinar", [CODE], f"/api/v1/webinars/{CODE}/"),
    ("schema", [], "/api/schema/"),
    ("api-docs", [], "/api/docs/"),
    ("admin:index", [], "/admin/"),
    ("events:register", [CODE], f"/r/{CODE}/"),
    ("events:resend", [CODE], f"/r/{CODE}/resend/"),
    ("events:registrants", [CODE], f"/events/webinars/{CODE}/registrants/"),
    ("events:import", [DOC], f"/events/imports/{DOC}/"),
]


@pytest.mark.parametrize(("name", "args", "url"), PUBLIC_URLS)
def test_every_public_url_keeps_its_path_and_its_name(name, args, url):
    assert reverse(name, args=args) == url
    assert resolve(url).view_name == name


def test_an_unknown_api_path_still_answers_the_api_404():
    assert resolve("/api/v1/no/such/thing/").view_name == "api-not-found"


def _app_modules(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("app", APPS)
def test_no_app_has_suffix_named_modules_but_packages(app):
    suffixed = [
        str(path.relative_to(ROOT))
        for path in _app_modules(app)
        if path.stem.split("_")[0] in ("views", "urls", "tasks", "services", "selectors")
        and "_" in path.stem
    ]
    assert not suffixed


@pytest.mark.parametrize("app", APPS)
def test_an_app_has_at_most_one_urls_and_one_tasks_module(app):
    for name in ("urls.py", "tasks.py"):
        found = [p for p in _app_modules(app) if p.name == name]
        assert len(found) <= 1, found
        assert all(p.parent == ROOT / app for p in found), found


def test_config_includes_each_app_once():
    tree = ast.parse((ROOT / "config" / "urls.py").read_text())
    included = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "include"
        and isinstance(node.args[0], ast.Constant)
    ]
    assert sorted(included) == sorted(
        f"{app}.urls" for app in APPS if (ROOT / app / "urls.py").exists()
    )
