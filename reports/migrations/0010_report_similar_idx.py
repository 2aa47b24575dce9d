"""report_similar_idx: the duplicate candidates' index (reports.similar._nearest_in_sql).

A GiST index on each submitted report's time span and position, so that the
candidates of one report are found by one index scan whatever the size of the
mission: the B-tree ranges it replaces for this read (report_cat_time_idx,
report_cat_end_idx, report_latlon_idx) are each open on one side or span a
whole band of latitude, and read thousands of rows a report at 100,000
reports (BENCHMARKS.md, "Scale", "The inbox").

PostgreSQL only, not in the model's Meta (as config.search's GIN index):
SQLite has no GiST, and there the candidates are found by those B-tree ranges.
"""

from django.db import migrations

NAME = "report_similar_idx"
CREATE = (f"CREATE INDEX IF NOT EXISTS {NAME} ON reports_report USING gist "
          "(tstzrange(occurred_at, COALESCE(occurred_until, occurred_at), '[]'), point(lon, lat)) "
          "WHERE status = 'submitted'")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0009_list_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
