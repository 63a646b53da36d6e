"""The "Finance" group: view access to every billing model, plus change on Refund so the
refund admin actions are available to finance. Idempotent (tests call `create` again)."""

from django.db import migrations

VIEW_MODELS = (
    "payment", "refund", "dispute", "stripeevent", "stripecustomer", "invoice",
    "invoiceline", "invoicesequence",
)
CODENAMES = [f"view_{model}" for model in VIEW_MODELS] + ["change_refund"]


def create(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created by post_migrate, i.e. after this migration runs on
    # a fresh database; create the billing ones now so they can be granted.
    app_config = apps.get_app_config("billing")
    app_config.models_module = getattr(app_config, "models_module", None) or True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Finance")
    group.permissions.add(*Permission.objects.filter(
        content_type__app_label="billing", codename__in=CODENAMES
    ))


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Finance").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_invoice_integrity"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create, remove)]
