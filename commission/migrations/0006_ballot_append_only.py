"""Ballots append-only in the database (commission/triggers.py)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from commission import triggers

    triggers.install(schema_editor.connection)


def backwards(apps, schema_editor):
    from commission import triggers

    triggers.drop(schema_editor.connection, functions=True)


class Migration(migrations.Migration):

    dependencies = [
        ("commission", "0005_ballot_sealed"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
