"""The repository tells the truth about itself: the README and docs/ agree with the code, nothing
points at notes that are not in the repository, and browsers find a favicon."""

import os
import re
import subprocess
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.staticfiles import finders
from django.urls import reverse

from webinars import signals
from webinars.models import User, Webinar

ROOT = Path(__file__).resolve().parent.parent
# The README and the docs it links to (docs/*.md) are read as one text.
README = "\n\n".join(
    path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
)
# Spelled in two parts so that this file does not match itself.
MISSING_NOTES = re.compile("research" + "/" + "|" + "DESIGN" + r"\.md")


def tracked_text_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
        paths = [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # an exported tree without .git
        paths = [
            Path(folder) / name
            for folder, dirs, files in os.walk(ROOT)
            if not any(part.startswith(".") for part in Path(folder).relative_to(ROOT).parts)
            for name in files
        ]
    texts = []
    for path in paths:
        try:
            path.read_bytes().decode("utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # binary, or deleted in the work tree
        texts.append(path)
    return texts


def test_nothing_points_at_notes_outside_the_repository():
    files = tracked_text_files()
    assert any(path.name == "README.md" for path in files)
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if MISSING_NOTES.search(line)
    ]
    assert not offenders, "\n".join(offenders)


def test_favicon_is_linked_and_served(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code in (301, 302)
    target = response["Location"]
    assert target == f"{settings.STATIC_URL}webinars/favicon.svg"
    found = finders.find("webinars/favicon.svg")
    assert found and Path(found).read_text().lstrip().startswith("<svg")
    page = client.get(reverse("pricing")).content.decode()
    assert f'<link rel="icon" href="{target}" type="image/svg+xml">' in page
    admin_login = client.get(reverse("admin:login")).content.decode()
    assert f'href="{target}"' in admin_login


def _python_sources() -> list[Path]:
    return [p for p in tracked_text_files() if p.suffix == ".py" and "tests" not in p.parts]


def test_the_htmx_middleware_is_installed_exactly_when_a_view_reads_request_htmx():
    readers = [p for p in _python_sources() if "request.htmx" in p.read_text()]
    installed = "django_htmx.middleware.HtmxMiddleware" in settings.MIDDLEWARE
    assert installed == bool(readers), (installed, readers)
    assert ("request.htmx` middleware is not installed" in README) == (not installed)


def test_the_readme_names_the_beat_entries_there_are():
    table = README.split("Beat schedule (`CELERY_BEAT_SCHEDULE`):", 1)[1].split("\n\n", 2)[1]
    named = re.findall(r"^\| `([a-z-]+)` \|", table, re.M)
    assert named == list(settings.CELERY_BEAT_SCHEDULE)
    for mention in re.findall(r"Beat's `([a-z-]+)`", README):
        assert mention in settings.CELERY_BEAT_SCHEDULE, mention


def test_the_readme_names_the_connected_signal_receivers():
    connected = {
        name: [receiver() for _key, receiver, *_ in signal.receivers]
        for name, signal in vars(signals).items()
        if isinstance(signal, type(signals.booking_expired))
    }
    named = {name: [f"{r.__module__}.{r.__name__}" for r in rs] for name, rs in connected.items()}
    assert named == {
        "booking_confirmed": [
            "events.receivers.on_booking_confirmed",
            "events.receivers.invite_team",
        ],
        "booking_cancelled": [
            "events.receivers.on_booking_ended_early",
            "events.receivers.tell_team_cancelled",
        ],
        "booking_completed": ["events.receivers.on_booking_completed"],
        "booking_expired": [
            "billing.receivers.on_booking_expired",
            "events.receivers.on_booking_ended_early",
            "events.receivers.retry_open_roles",
        ],
    }
    for name in named:
        assert f"`{name}`" in README
    for receiver in (
        "on_booking_expired",
        "on_booking_confirmed",
        "on_booking_ended_early",
        "invite_team",
        "tell_team_cancelled",
        "retry_open_roles",
        "on_booking_completed",
    ):
        assert f"`{receiver}`" in README


def test_the_readme_names_the_admin_actions_and_what_they_do():
    actions = {
        description
        for _func, _name, description in admin.site._registry[Webinar]._get_base_actions()
    }
    assert "Cancel selected webinars and refund them in full" in actions
    assert '"Cancel selected webinars and refund them in full"' in README
    assert "no refund here" not in README and "**without** a refund" not in README


def test_finance_page_is_for_the_finance_group_as_the_readme_says(client, catalogue):
    assert "Event Services staff get a 403" in README
    for group, status in (("Event Services", 403), ("Finance", 200)):
        user = User.objects.create_user(
            email=f"{group.split()[0].lower()}@megawebinar.example", password="x", is_staff=True
        )
        user.groups.add(Group.objects.get(name=group))
        client.force_login(user)
        assert client.get(reverse("finance:revenue")).status_code == status, group
