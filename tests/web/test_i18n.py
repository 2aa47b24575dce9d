"""The interface is complete in English and French."""

import ast
import html
import re
from pathlib import Path

import pytest
from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdfir]")


def _entries(text: str) -> list[dict]:
    """Every live entry of a .po file: its flags, source directories and
    strings (msgid, msgid_plural, msgstr, msgstr[n], continuation lines
    joined). Obsolete entries (#~) are left out: gettext ignores them."""
    entries = []
    for block in text.split("\n\n"):
        entry = {"flags": set(), "dirs": set(), "strings": {}}
        key = None
        lines = block.strip().splitlines()
        if any(line.startswith("#~") for line in lines):
            continue
        for line in lines:
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#:"):
                entry["dirs"].update(ref.split("/", 1)[0] for ref in line[2:].split())
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry["strings"][key] += ast.literal_eval(line)
            else:
                key, _, value = line.partition(" ")
                entry["strings"][key] = ast.literal_eval(value)
        if entry["strings"]:
            entries.append(entry)
    return entries


def test_every_french_message_is_translated_and_compiled():
    entries = _entries(PO.read_text(encoding="utf-8"))
    messages = [e for e in entries if e["strings"]["msgid"]]  # the one without is the header
    assert len(messages) == len(entries) - 1
    untranslated = [e["strings"]["msgid"] for e in messages
                    if not [k for k in e["strings"] if k.startswith("msgstr")]
                    or not all(v for k, v in e["strings"].items() if k.startswith("msgstr"))
                    or ("msgid_plural" in e["strings"] and not {"msgstr[0]", "msgstr[1]"} <= set(e["strings"]))]
    fuzzy = [e["strings"]["msgid"] for e in messages if "fuzzy" in e["flags"]]
    assert not untranslated, untranslated[:3]
    assert not fuzzy, fuzzy[:3]
    # A translation keeps the message's placeholders (msgfmt checks them too,
    # but only when someone runs compilemessages).
    wrong = [e["strings"]["msgid"] for e in messages if "python-format" in e["flags"] and any(
        set(PLACEHOLDER.findall(v)) != set(PLACEHOLDER.findall(e["strings"]["msgid"]))
        for k, v in e["strings"].items() if k.startswith("msgstr"))]
    assert not wrong, wrong[:3]
    # The whole interface: the pages' own strings and the services' messages
    # that the pages and the API show.
    assert {"web", "commission", "reports"} <= set().union(*(e["dirs"] for e in messages))
    mo = PO.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= PO.stat().st_mtime - 1, "run manage.py compilemessages"


@pytest.mark.django_db
def test_pages_speak_french_when_asked(people, web):
    client = web(people["monitor"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    page = client.get("/my/reports/new/").content.decode()
    assert '<html lang="fr">' in page
    assert "Nouveau signalement" in page
    assert "Soumettre le signalement" in page
    bad = client.post("/my/reports/new/", {"idempotency_key": "k", "lat": "123", "action": "submit"}).content.decode()
    # DRF's own French: the same message an API client asking for French gets.
    assert "Assurez-vous que cette valeur est inférieure ou égale à 90." in bad


@pytest.mark.django_db
def test_the_sign_in_page_has_a_language_switcher(web):
    page = web().get("/signin/").content.decode()
    assert 'name="language"' in page
    assert 'value="fr"' in page


@pytest.mark.django_db
def test_the_commission_pages_speak_french_too(people, web):
    from commission import services
    from reports.services import report_create

    report = report_create(actor=people["monitor"], data={
        "occurred_at": "2026-01-01T10:00:00Z", "lat": 47.5, "lon": 35.8, "category": "shelling",
        "source_type": "uav", "description": "impacts"})[0]
    case = services.case_open(actor=people["verifier"], title="Orikhiv", reports=[report])
    services.verification_record(actor=people["verifier"], case=case, outcome="confirmed", findings="Craters.")
    client = web(people["member1"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    page = html.unescape(client.post(f"/cases/{case.pk}/ballot/", {"choice": "RU", "rationale": "Tracks."})
                         .content.decode())
    assert "Aucun tour de scrutin n'est ouvert sur ce dossier." in page
    assert "<h2 id=\"h-deadlines\">Échéances</h2>" in page
