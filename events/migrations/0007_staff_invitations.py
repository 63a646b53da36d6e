"""Invitations and calendars of Event Services staff: when an assignment was sent and
accepted (`kind` has a database default: the assigner inserts assignments in SQL), rehearsals as assignments of their own kind, and each member's secret calendar
feed token (filled for existing members before it becomes unique)."""

import secrets

from django.db import migrations, models

import events.models.staffing


def fill_tokens(apps, schema_editor) -> None:
    StaffMember = apps.get_model("events", "StaffMember")
    for member in StaffMember.objects.filter(calendar_token__isnull=True).only("id"):
        member.calendar_token = secrets.token_urlsafe(32)
        member.save(update_fields=["calendar_token"])


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0006_admission"),
    ]

    operations = [
        migrations.AddField(
            model_name="staffmember",
            name="calendar_token",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="staffmember",
            name="calendar_token",
            field=models.CharField(
                default=events.models.staffing.new_calendar_token,
                editable=False,
                max_length=64,
                unique=True,
            ),
        ),
        migrations.AddField(
            model_name="assignment",
            name="kind",
            field=models.CharField(
                choices=[("event", "Event"), ("rehearsal", "Rehearsal")],
                default="event",
                db_default="event",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="assignment",
            name="invited_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="assignment",
            name="accepted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
