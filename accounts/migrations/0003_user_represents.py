import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_auth_token'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='represents',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='representatives', to='accounts.party'),
        ),
    ]
