"""Invoice PDFs move to unguessable names: `invoices/<year>/<token>/<number>.pdf`.

Files stored under the old guessable `invoices/<year>/<number>.pdf` are copied to a token
folder; the old copy is deleted only once the migration has committed, so a rollback
never leaves a row pointing at a missing file."""

from django.core.files.storage import default_storage
from django.db import migrations, models, transaction

import billing.models


def move_guessable_files(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    stored = Invoice.objects.exclude(pdf="").exclude(pdf__isnull=True)
    for invoice in stored.only("pk", "pdf", "year").iterator():
        old = invoice.pdf.name
        if old.count("/") != 2 or not default_storage.exists(old):
            continue  # already in a token folder, or missing (rendered again on demand)
        new = billing.models.invoice_pdf_path(invoice, old.rsplit("/", 1)[1])
        with default_storage.open(old, "rb") as handle:
            saved = default_storage.save(new, handle)
        # The integrity trigger lets the delivery column `pdf` change after issue.
        Invoice.objects.filter(pk=invoice.pk).update(pdf=saved)
        transaction.on_commit(lambda name=old: default_storage.delete(name))


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_finance_group")]

    operations = [
        migrations.AlterField(
            model_name="invoice",
            name="pdf",
            field=models.FileField(blank=True, upload_to=billing.models.invoice_pdf_path),
        ),
        migrations.RunPython(move_guessable_files, migrations.RunPython.noop),
    ]
