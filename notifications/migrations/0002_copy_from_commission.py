"""Notifications used to live in the commission app (commission_notification,
with a foreign key to the case). This copies them, ids included, before
commission 0003 drops that table; the case is kept as its id and reference.
The only reference to a higher app in this one's history, and only here."""

from django.db import migrations


def copy(apps, schema_editor):
    Old = apps.get_model("commission", "Notification")
    New = apps.get_model("notifications", "Notification")
    batch = []
    for old in Old.objects.select_related("case").order_by("id").iterator(chunk_size=2000):
        batch.append(New(id=old.id, recipient_id=old.recipient_id, case_id=old.case_id,
                         case_reference=(old.case.reference or "") if old.case_id else "", kind=old.kind,
                         subject=old.subject, body=old.body, key=old.key, created_at=old.created_at,
                         read_at=old.read_at, email_claimed_at=old.email_claimed_at, emailed_at=old.emailed_at))
        if len(batch) == 2000:
            New.objects.bulk_create(batch)
            batch = []
    New.objects.bulk_create(batch)
    if schema_editor.connection.vendor == "postgresql":
        # Rows inserted with explicit ids: move the sequence past them.
        schema_editor.execute(
            "SELECT setval(pg_get_serial_sequence('notifications_notification', 'id'), "
            "COALESCE((SELECT MAX(id) FROM notifications_notification), 0) + 1, false)")


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0001_initial"),
        ("commission", "0002_notification_email_claim"),
    ]

    operations = [migrations.RunPython(copy, migrations.RunPython.noop)]
