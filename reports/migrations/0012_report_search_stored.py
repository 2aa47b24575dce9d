# The reports' search vector stored (config.search.stored_vector_operations), on PostgreSQL only.

from django.db import migrations

from config.search import stored_vector_operations


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0011_report_monthly_count"),
    ]

    # The fields are written out: a migration must not change when the model's list does.
    operations = stored_vector_operations("reports.Report", fields=("description", "place_name", "admin1", "weapons"),
                                          column="search_vector", index="report_search_vector_idx",
                                          replaces="report_search_idx")
