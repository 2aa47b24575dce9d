from django.core.management.base import BaseCommand, CommandError

from audit.services import trail_export
from config.errors import ApplicationError


class Command(BaseCommand):
    help = ("Write the decision trail as JSON Lines on stdout, one event per line in the recipe's form "
            "(docs/audit.md), ending with {\"checkpoint\": {...}}, the latest signed checkpoint.")

    def add_arguments(self, parser):
        parser.add_argument("--case", metavar="REF", help="only the events of this case (e.g. CASE-2026-000001)")
        parser.add_argument("--after-seq", metavar="N", type=int, default=0,
                            help="resume an interrupted export: only the events after seq N")

    def handle(self, *args, case=None, after_seq=0, **options):
        if after_seq < 0:
            raise CommandError("--after-seq must be 0 or more", returncode=2)
        try:
            lines = trail_export(case_reference=case, after_seq=after_seq)
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=1)
        for line in lines:
            self.stdout.write(line, ending="")
        self.stdout.flush()
