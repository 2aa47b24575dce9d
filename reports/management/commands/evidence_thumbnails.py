from django.core.management.base import BaseCommand

from reports.models import Evidence
from reports.services import evidence_derive


class Command(BaseCommand):
    help = ("Make the thumbnails and read the EXIF (capture time, GPS) of image evidence stored without them "
            "(uploaded before thumbnails existed). Safe to run again: what already has a thumbnail is skipped.")

    def add_arguments(self, parser):
        parser.add_argument("--redo", action="store_true",
                            help="derive again for every image, even those that have a thumbnail")

    def handle(self, *args, redo=False, **options):
        queryset = Evidence.objects.filter(content_type__startswith="image/").order_by("pk")
        if not redo:
            queryset = queryset.filter(thumbnail="")
        done = skipped = 0
        for evidence in queryset.iterator():
            if evidence_derive(evidence=evidence, redo=redo) and evidence.thumbnail:
                done += 1
            else:
                # Unreadable or too large: the original stays, pages show a file link.
                skipped += 1
        self.stdout.write(f"{done} thumbnail(s) made, {skipped} image(s) without one.")
