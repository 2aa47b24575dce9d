# The full-text search's GIN index (config.search), on PostgreSQL only.

from django.db import migrations

from config.search import index_operations


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0005_draft_any_subset'),
    ]

    # The fields are written out: a migration must not change when the model's list does.
    operations = index_operations("reports.Report", fields=("description", "place_name", "admin1", "weapons"),
                                  name="report_search_idx")
