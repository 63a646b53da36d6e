"""Invoice integrity in PostgreSQL itself (invariant 4), beyond the model's save() guard:

- one invoice per payment (the backstop of issue_invoice's idempotency);
- an issued invoice or credit note can be neither deleted nor changed, except for the
  delivery bookkeeping columns (pdf, emailed_at, paid), and its lines are frozen with it,
  whatever path the write takes (QuerySet.update/delete, raw SQL, a shell).
"""

from django.db import migrations, models

FORWARD = """
CREATE FUNCTION billing_invoice_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'issued' AND (
        TG_OP = 'DELETE'
        OR (to_jsonb(NEW) - 'pdf' - 'emailed_at' - 'paid')
           IS DISTINCT FROM (to_jsonb(OLD) - 'pdf' - 'emailed_at' - 'paid')
    ) THEN
        RAISE EXCEPTION 'invoice % is issued and cannot be changed or deleted', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER billing_invoice_frozen BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_frozen();

CREATE FUNCTION billing_invoiceline_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM billing_invoice WHERE id = OLD.invoice_id AND status = 'issued')
    THEN
        RAISE EXCEPTION 'lines of an issued invoice cannot be changed or deleted'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER billing_invoiceline_frozen BEFORE UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_frozen();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS billing_invoiceline_frozen ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoiceline_frozen();
DROP TRIGGER IF EXISTS billing_invoice_frozen ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_frozen();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0001_initial'),
        ('webinars', '0002_catalogue'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'invoice')), fields=('payment',), name='invoice_one_per_payment'),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
