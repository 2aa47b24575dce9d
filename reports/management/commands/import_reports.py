import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from config.errors import ApplicationError
from reports import imports


class Command(BaseCommand):
    help = ("File a monitor's batch of reports from a CSV or JSON Lines file, as POST /api/v1/reports/import/ "
            "does (docs/import.md): each row validated like a single report, filed with its audit event or "
            "refused with its errors; a re-run files nothing twice. Files larger than REPORT_IMPORT_MAX_ROWS "
            "rows are filed in batches of that many, each in its own transaction.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv, .jsonl or .ndjson file ('-' reads CSV from stdin)")
        parser.add_argument("--user", required=True, help="the monitor who files the reports (username)")
        parser.add_argument("--mapping", choices=imports.MAPPINGS, help="default: guessed from the header")
        parser.add_argument("--format", choices=("csv", "jsonl"), help="default: from the file's extension")
        parser.add_argument("--json", action="store_true", help="print the API's JSON answer instead of a summary")

    def handle(self, *args, file, user, mapping=None, format=None, json=False, **options):  # noqa: A002
        actor = get_user_model().objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"No user {user!r}.")
        if file == "-":
            import sys

            text = sys.stdin.read()
        else:
            path = Path(file)
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"Cannot read {file}: {exc}")
        kind = format or ("jsonl" if file.endswith((".jsonl", ".ndjson")) else "csv")
        media_type = "application/x-ndjson" if kind == "jsonl" else "text/csv"
        try:
            header, records = imports.records_from(text, media_type)
            size = settings.REPORT_IMPORT_MAX_ROWS
            results = []
            for start in range(0, len(records) or 1, size):
                results.append(imports.import_records(actor=actor, header=header, records=records[start:start + size],
                                                      mapping=mapping))
        except imports.ImportFormatError as exc:
            raise CommandError(str(exc))
        except ApplicationError as exc:
            raise CommandError(exc.message)
        answer = _merge(results)
        if json:
            self.stdout.write(_json_dumps(answer))
            return
        self.stdout.write(f"mapping {answer['mapping']}: filed {answer['filed']}, duplicates {answer['duplicates']}, "
                          f"refused {answer['refused']}")
        for row in answer["rows"]:
            if row["status"] == "refused":
                errors = "; ".join(f"{column}: {' '.join(messages)}" for column, messages in row["errors"].items())
                self.stdout.write(f"  row {row['row']}: refused ({errors})")


def _merge(results: list) -> dict:
    """One answer for a file filed in several batches (row numbers count from
    the file's start)."""
    answer = {"mapping": results[0].mapping, "filed": 0, "duplicates": 0, "refused": 0, "rows": []}
    offset = 0
    for result in results:
        part = result.as_dict()
        for key in ("filed", "duplicates", "refused"):
            answer[key] += part[key]
        answer["rows"] += [{**row, "row": row["row"] + offset} for row in part["rows"]]
        offset += len(part["rows"])
    return answer


def _json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
