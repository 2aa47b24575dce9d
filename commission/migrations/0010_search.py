# The full-text search's GIN index (config.search), on PostgreSQL only.

from django.db import migrations

from config.search import index_operations


class Migration(migrations.Migration):

    dependencies = [
        ('commission', '0009_reply'),
    ]

    # The fields are written out: a migration must not change when the model's list does.
    operations = index_operations("commission.Case", fields=("title", "findings", "summary"),
                                  name="case_search_idx")
