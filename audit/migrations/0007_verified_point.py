"""Signed, append-only verified points (audit.models.VerifiedPoint): the
incremental check trusts the events before the newest one.

The old unsigned VerifiedHead rows are not carried over (0008 drops the
table): the migration has no signing key, and an unsigned head is exactly
what a database operator could move. Until the next full pass signs a point,
every check is a full one.
"""

from django.db import migrations, models


def install_triggers(apps, schema_editor):
    from audit.triggers import VERIFIED_POINTS

    VERIFIED_POINTS.install(schema_editor.connection)


def drop_triggers(apps, schema_editor):
    from audit.triggers import VERIFIED_POINTS

    VERIFIED_POINTS.drop(schema_editor.connection, functions=True)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0006_signed_tree_head'),
    ]

    operations = [
        migrations.CreateModel(
            name='VerifiedPoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.BigIntegerField(unique=True)),
                ('hash', models.CharField(max_length=64)),
                ('at', models.DateTimeField()),
                ('signature', models.CharField(max_length=128)),
                ('public_key', models.CharField(max_length=64)),
            ],
            options={
                'ordering': ['-seq'],
            },
        ),
        migrations.RunPython(install_triggers, drop_triggers),
    ]
