"""Checkpoints become signed tree heads (RFC 9162): tree_size and root_hash.

Existing checkpoints keep NULL in both and their signature over (seq, hash,
at): they cannot be re-signed here (the migration has no key, and the table
refuses UPDATE), and the checks accept both forms (audit.chain.
checkpoint_message). Nullable columns without a default are added in place
on both databases, so the append-only triggers stay.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0005_verified_head'),
    ]

    operations = [
        migrations.AddField(
            model_name='checkpoint',
            name='root_hash',
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name='checkpoint',
            name='tree_size',
            field=models.BigIntegerField(blank=True, null=True),
        ),
    ]
