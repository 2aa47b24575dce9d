# The notifications app: notifications moved here from the commission app.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('case_id', models.BigIntegerField(blank=True, null=True)),
                ('case_reference', models.CharField(blank=True, default='', max_length=32)),
                ('kind', models.CharField(max_length=32)),
                ('subject', models.CharField(max_length=200)),
                ('body', models.TextField(blank=True, default='')),
                ('key', models.CharField(max_length=120)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('read_at', models.DateTimeField(blank=True, null=True)),
                ('email_claimed_at', models.DateTimeField(blank=True, null=True)),
                ('emailed_at', models.DateTimeField(blank=True, null=True)),
                ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='notifications', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-id'],
                'indexes': [models.Index(fields=['recipient', '-id'], name='notif_recipient_idx'), models.Index(condition=models.Q(('emailed_at__isnull', True)), fields=['id'], name='notif_unsent_idx')],
                'constraints': [models.UniqueConstraint(fields=('recipient', 'key'), name='notification_once_per_key')],
            },
        ),
    ]
