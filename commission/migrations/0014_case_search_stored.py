# The cases' search vector stored (config.search.stored_vector_operations), on PostgreSQL only.

from django.db import migrations

from config.search import stored_vector_operations


class Migration(migrations.Migration):

    dependencies = [
        ("commission", "0013_list_indexes"),
    ]

    # The fields are written out: a migration must not change when the model's list does.
    operations = stored_vector_operations("commission.Case", fields=("title", "findings", "summary"),
                                          column="search_vector", index="case_search_vector_idx",
                                          replaces="case_search_idx")
