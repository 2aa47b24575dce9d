"""Recompute the counts kept on write (the overview's daily and monthly
counts, the map's cells) from the reports: after a restore, or to check them."""

from django.core.management.base import BaseCommand

from reports.models import ReportDailyCount, ReportMapCell, ReportMonthlyCount
from reports.services.counts import report_counts_rebuild


class Command(BaseCommand):
    help = "Recompute ReportDailyCount, ReportMonthlyCount and ReportMapCell from the reports (one transaction)."

    def handle(self, *args, **options):
        report_counts_rebuild()
        self.stdout.write(f"{ReportDailyCount.objects.count()} daily rows, {ReportMonthlyCount.objects.count()} monthly "
                          f"rows, {ReportMapCell.objects.count()} map cells.")
