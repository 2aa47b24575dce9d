import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.selectors import checkpoint_check
from audit.services import signing_public_key_hex, trail_verify


class Command(BaseCommand):
    help = ("Check the whole decision trail (gap-free seq, prev_hash links, every hash recomputed, every "
            "stored signed checkpoint equal to the chain at its seq). "
            "Exit status 0 only when it is intact; otherwise names the first bad seq.")

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", metavar="FILE",
                            help="a checkpoint saved earlier (JSON, or an export's last line): checks its "
                                 "signature and that its (seq, hash) is still on the chain")
        parser.add_argument("--public-key", metavar="HEX",
                            help="the commission's Ed25519 public key to check the checkpoint with "
                                 "(default: the key derived from AUDIT_SIGNING_KEY)")

    def handle(self, *args, checkpoint=None, public_key=None, **options):
        report = trail_verify()
        if not report.ok:
            raise CommandError(f"trail NOT intact: first bad seq {report.first_bad_seq}: {report.problem} "
                               f"({report.checked} events checked before it)", returncode=1)
        head = f"head seq {report.head_seq} hash {report.head_hash}" if report.head_seq else "empty trail"
        self.stdout.write(f"trail intact: {report.checked} events checked, {head}; "
                          f"{report.checkpoints_checked} stored signed checkpoints match the chain")
        for check in report.checks:
            self.stdout.write(f"{check.name}: {check.checked} checked")
        if checkpoint:
            try:
                data = json.loads(Path(checkpoint).read_text().strip().splitlines()[-1])
            except (OSError, ValueError, IndexError) as exc:
                raise CommandError(f"cannot read checkpoint {checkpoint}: {exc}", returncode=1)
            if not public_key:
                if not settings.AUDIT_SIGNING_KEY:
                    raise CommandError("--public-key is required when AUDIT_SIGNING_KEY is not set", returncode=1)
                public_key = signing_public_key_hex()
            ok, message = checkpoint_check(data, public_key_hex=public_key.strip().lower())
            if not ok:
                raise CommandError(f"checkpoint check FAILED: {message}", returncode=1)
            self.stdout.write(message)
