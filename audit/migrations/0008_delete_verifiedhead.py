"""The unsigned verified head gives way to the signed verified points (0007)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0007_verified_point'),
    ]

    operations = [
        migrations.DeleteModel(
            name='VerifiedHead',
        ),
    ]
