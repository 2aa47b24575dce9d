"""Fill the counts kept on write from the reports already filed."""

from django.db import migrations


def fill(apps, schema_editor):
    # The service itself (not historical models): the counts must be the ones
    # its moves keep, and the tables exist from 0007 on.
    from reports.services.counts import report_counts_rebuild

    report_counts_rebuild()


class Migration(migrations.Migration):
    dependencies = [("reports", "0007_report_counts")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
