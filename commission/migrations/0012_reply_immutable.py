from django.db import migrations


def install_triggers(apps, schema_editor):
    from commission.triggers import REPLIES, REPLY_EVIDENCE

    REPLIES.install(schema_editor.connection)
    REPLY_EVIDENCE.install(schema_editor.connection)


def drop_triggers(apps, schema_editor):
    from commission.triggers import REPLIES, REPLY_EVIDENCE

    REPLIES.drop(schema_editor.connection, functions=True)
    REPLY_EVIDENCE.drop(schema_editor.connection, functions=True)


class Migration(migrations.Migration):
    """A party's reply and its files, once submitted, are never changed
    (commission/triggers.py), like the discussion's comments."""

    dependencies = [
        ("commission", "0011_comment"),
    ]

    operations = [
        migrations.RunPython(install_triggers, drop_triggers),
    ]
