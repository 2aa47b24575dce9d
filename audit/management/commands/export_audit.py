from django.core.management.base import BaseCommand, CommandError

from audit.services import trail_export
from config.errors import ApplicationError


class Command(BaseCommand):
    help = ("Write the decision trail as JSON Lines on stdout, one event per line in the recipe's form "
            "(docs/audit.md), ending with {\"checkpoint\": {...}}, the latest signed checkpoint.")

    def add_arguments(self, parser):
        parser.add_argument("--case", metavar="REF", help="only the events of this case (e.g. CASE-2026-000001)")

    def handle(self, *args, case=None, **options):
        try:
            lines = trail_export(case_reference=case)
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=1)
        for line in lines:
            self.stdout.write(line, ending="")
        self.stdout.flush()
