"""The "Event Services" group: what staff need in the admin to run the calendar: view and
change webinars (flags, staff actions), manage the catalogue and regions (fleet sizes),
and read the fleet ledger and the audit log."""

from django.db import migrations

CODENAMES = [
    "view_webinar", "change_webinar", "view_package", "change_package", "view_region",
    "change_region", "view_organisation", "view_fleetslot", "view_fleetreservation",
    "view_auditentry",
]


def create(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # post_migrate creates permissions only after all migrations; make them now.
    app_config = apps.get_app_config("webinars")
    app_config.models_module = getattr(app_config, "models_module", None) or True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Event Services")
    group.permissions.add(*Permission.objects.filter(
        content_type__app_label="webinars", codename__in=CODENAMES
    ))


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Event Services").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webinars", "0002_catalogue"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create, remove)]
