# Notification moved to the notifications app (see notifications 0002).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('commission', '0002_notification_email_claim'),
        # Its rows are copied first (notifications 0002).
        ('notifications', '0002_copy_from_commission'),
    ]

    operations = [
        migrations.DeleteModel(
            name='Notification',
        ),
    ]
