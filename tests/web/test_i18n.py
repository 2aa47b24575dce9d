"""The interface is complete in English, French and Ukrainian."""

import ast
import html
import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
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


def _plural_forms(text: str) -> int:
    return int(re.search(r"nplurals=(\d+);", text).group(1))


@pytest.mark.parametrize("language", ["fr", "uk"])
def test_every_message_is_translated_and_compiled(language):
    PO = LOCALE / language / "LC_MESSAGES" / "django.po"
    text = PO.read_text(encoding="utf-8")
    entries = _entries(text)
    forms = {f"msgstr[{n}]" for n in range(_plural_forms(text))}
    messages = [e for e in entries if e["strings"]["msgid"]]  # the one without is the header
    assert len(messages) == len(entries) - 1
    untranslated = [e["strings"]["msgid"] for e in messages
                    if not [k for k in e["strings"] if k.startswith("msgstr")]
                    or not all(v for k, v in e["strings"].items() if k.startswith("msgstr"))
                    or ("msgid_plural" in e["strings"] and not forms <= set(e["strings"]))]
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


def test_the_ukrainian_catalog_has_its_three_plural_forms():
    from django.utils import translation

    text = (LOCALE / "uk" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert _plural_forms(text) == 3
    with translation.override("uk"):
        said = {n: translation.ngettext("%(counter)s submitted report.", "%(counter)s submitted reports.", n)
                % {"counter": n} for n in (1, 3, 5, 11, 21, 22, 25)}
    assert said == {1: "1 подане повідомлення.", 3: "3 подані повідомлення.", 5: "5 поданих повідомлень.",
                    11: "11 поданих повідомлень.", 21: "21 подане повідомлення.", 22: "22 подані повідомлення.",
                    25: "25 поданих повідомлень."}


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
    assert 'value="uk"' in page
    assert "Українська" in page


@pytest.mark.django_db
def test_pages_speak_ukrainian_when_asked(people, web):
    client = web(people["monitor"])
    client.post("/i18n/setlang/", {"language": "uk", "next": "/"})
    page = client.get("/my/reports/new/").content.decode()
    assert '<html lang="uk">' in page
    assert "Нове повідомлення" in page
    assert "Подати повідомлення" in page
    bad = client.post("/my/reports/new/", {"idempotency_key": "k", "lat": "123", "action": "submit"}).content.decode()
    # DRF's own Ukrainian: the same message an API client asking for Ukrainian gets.
    assert "Переконайтесь, що значення менше або дорівнює 90." in html.unescape(bad)


@pytest.mark.django_db
def test_a_ukrainian_browser_gets_ukrainian_pages_without_choosing(web):
    # A monitor's phone set to Ukrainian: Accept-Language decides until the
    # switcher is used.
    page = html.unescape(web().get("/signin/", HTTP_ACCEPT_LANGUAGE="uk-UA,uk;q=0.9,en;q=0.5").content.decode())
    assert '<html lang="uk">' in page
    assert "Ім’я користувача" in page
    assert "Пароль" in page


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


@pytest.mark.django_db
def test_the_commission_pages_speak_ukrainian_too(people, web):
    from commission import services
    from reports.services import report_create

    report = report_create(actor=people["monitor"], data={
        "occurred_at": "2026-01-01T10:00:00Z", "lat": 47.5, "lon": 35.8, "category": "shelling",
        "source_type": "uav", "description": "impacts"})[0]
    case = services.case_open(actor=people["verifier"], title="Orikhiv", reports=[report])
    services.verification_record(actor=people["verifier"], case=case, outcome="confirmed", findings="Craters.")
    client = web(people["member1"])
    client.post("/i18n/setlang/", {"language": "uk", "next": "/"})
    page = html.unescape(client.post(f"/cases/{case.pk}/ballot/", {"choice": "RU", "rationale": "Tracks."})
                         .content.decode())
    assert "У цій справі немає відкритого туру голосування." in page
    assert "<h2 id=\"h-deadlines\">Строки</h2>" in page
