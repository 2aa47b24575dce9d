"""Filled the counts kept on write from the reports already filed. It
called the live service (reports.services.counts.report_counts_rebuild),
which since 0011 also writes ReportMonthlyCount, a table that does not
exist yet at this point: the fill moved to 0011, which rebuilds every
count. A database that ran this step before is rebuilt there again."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reports", "0007_report_counts")]

    operations = []
