"""The update trigger checks "seal only" in its WHEN clause instead of a
PL/pgSQL function per row (audit/triggers.py says why). It refuses exactly
what 0003's trigger refused; only the cost of a sealed row changes.

install() drops and recreates the PostgreSQL triggers (and drops the old
function); SQLite's triggers are unchanged.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from audit import triggers

    triggers.install(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_append_only_triggers"),
    ]

    operations = [
        # Going back leaves these triggers: they refuse what 0003's refused,
        # and 0003's own reverse drops them with every trail function.
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
