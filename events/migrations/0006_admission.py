import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0003_registrants"),
        ("webinars", "0005_booking_keeps_cancellation_policy"),
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
    ]
