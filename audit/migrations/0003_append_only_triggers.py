"""Append-only in the database: triggers refuse UPDATE (except the one-time
seal), DELETE and, on PostgreSQL, TRUNCATE of the trail and its checkpoints.

The SQL lives in audit/triggers.py so that the test suite lifts and restores
the very same triggers around a flush. It is part of the trail's contract:
changing it means a new migration that calls triggers.install() again.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from audit import triggers

    triggers.install(schema_editor.connection)


def backwards(apps, schema_editor):
    from audit import triggers

    triggers.drop(schema_editor.connection, functions=True)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_checkpoint"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
