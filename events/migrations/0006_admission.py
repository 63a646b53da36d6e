"""Attendance summaries, and the Event Services group's right to see every webinar's
attendance dashboard and report (events.views.attendance)."""

import django.db.models.deletion
from django.db import migrations, models


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # post_migrate creates permissions only after all migrations; make them now.
    app_config = apps.get_app_config("events")
    app_config.models_module = getattr(app_config, "models_module", None) or True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Event Services")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="events", codename="view_attendancesummary"
        )
    )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="events", codename="view_attendancesummary"
    ).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0005_registration"),
        ("webinars", "0005_booking_keeps_cancellation_policy"),
        ("webinars", "0003_event_services_group"),
    ]

    operations = [
        migrations.CreateModel(
            name="AttendanceSummary",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("registered", models.PositiveIntegerField()),
                ("attended", models.PositiveIntegerField()),
                ("peak_concurrent", models.PositiveIntegerField()),
                ("watched_seconds", models.PositiveBigIntegerField()),
                ("by_region", models.JSONField(default=list)),
                ("series", models.JSONField(default=list)),
                ("recorded_at", models.DateTimeField()),
                ("webinar", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="attendance_summary", to="webinars.webinar")),
            ],
            options={"verbose_name_plural": "attendance summaries"},
        ),
        migrations.RunPython(grant, revoke),
    ]
