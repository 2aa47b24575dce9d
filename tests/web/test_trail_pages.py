"""The trail speaks to people: every action id the code writes has words in
English, French and Ukrainian (the id stays beside them for auditors); before
and after read as a table of the fields that changed; the trail pages filter
by case, actor, action and date in the database, a page at a time."""

import ast
import html
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from audit.models import AuditEvent
from commission import services
from web.labels import ACTION_LABELS
from web.trail_diff import event_diff, flatten

APPS = ("accounts", "audit", "notifications", "reports", "commission", "web")
# The f-string actions the code writes, and what they expand to (the status set they are made from).
F_STRING_ACTIONS = {"deadline.": ("met", "missed"), "measure.": ("adopted", "rejected")}


def _strings(node) -> set[str] | None:
    """The action ids an expression can be: a literal, either side of a
    conditional, or an f-string of F_STRING_ACTIONS; None if unknown."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        left, right = _strings(node.body), _strings(node.orelse)
        return None if left is None or right is None else left | right
    if isinstance(node, ast.JoinedStr):
        head = node.values[0]
        prefix = head.value if isinstance(head, ast.Constant) else ""
        assert prefix in F_STRING_ACTIONS, f"a new f-string action {prefix}…: add it to F_STRING_ACTIONS"
        return {prefix + status for status in F_STRING_ACTIONS[prefix]}
    return None


def _returned(tree, function: str, index: int) -> set[str]:
    """The strings at `index` of the tuples that module-level `function` returns."""
    values: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Tuple):
                    values |= _strings(ret.value.elts[index]) or set()
    return values


def written_actions() -> set[str]:
    """Every action id passed to audit_record(action=...) in the code base,
    through a variable too (its assignments in the same function)."""
    found: set[str] = set()
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for func in ast.walk(tree):
                if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
                    continue
                def assigned(name, func=func, tree=tree):
                    values: set[str] = set()
                    for node in ast.walk(func):
                        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
                            continue
                        target = node.targets[0]
                        if isinstance(target, ast.Name) and target.id == name:
                            values |= _strings(node.value) or set()
                        elif (isinstance(target, ast.Tuple) and isinstance(node.value, ast.Call)
                              and isinstance(node.value.func, ast.Name)):
                            # `action, after = helper(...)`: the helper's returned tuples, same module.
                            names = [getattr(elt, "id", None) for elt in target.elts]
                            if name in names:
                                values |= _returned(tree, node.value.func.id, names.index(name))
                    return values

                for node in ast.walk(func):
                    if isinstance(node, ast.Dict):
                        # An event built as audit_record's keyword arguments (settle_event, the
                        # sweep's batched events for audit_record_many): {"action": ..., ...}.
                        for key, value in zip(node.keys, node.values, strict=True):
                            if isinstance(key, ast.Constant) and key.value == "action":
                                found |= _strings(value) or set()
                        continue
                    if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None))
                            == "audit_record"):
                        continue
                    for keyword in node.keywords:
                        if keyword.arg != "action":
                            continue
                        values = _strings(keyword.value)
                        if values is None and isinstance(keyword.value, ast.Name):
                            values = assigned(keyword.value.id)
                        assert values, f"{path}:{node.lineno}: an action id this test cannot read"
                        found |= values
    return found


def test_the_collector_finds_the_actions_it_must():
    actions = written_actions()
    assert {"case.report_linked", "ballot.cast", "report.drafted", "deadline.missed", "measure.adopted",
            "case.summary_withdrawn"} <= actions
    assert len(actions) > 40


@pytest.mark.parametrize("language", ["en", "fr", "uk"])
def test_every_action_the_code_writes_has_words_in_every_language(language):
    missing = sorted(written_actions() - ACTION_LABELS.keys())
    assert not missing, f"actions without words in web/labels.ACTION_LABELS: {missing}"
    with translation.override(language):
        for code, text in ACTION_LABELS.items():
            words = str(text)
            assert words and words != code
            if language != "en":
                with translation.override("en"):
                    english = str(text)
                assert words != english, f"{code}: no {language} translation of {english!r}"


# --- The diff --------------------------------------------------------------------------------


def test_nested_data_is_flattened_to_dotted_keys():
    assert flatten({"location": {"lat": 1.5, "lon": 2}, "weapons": ["mortar", "drone"],
                    "items": [{"name": "a"}]}) == {
        "items.0.name": "a", "location.lat": 1.5, "location.lon": 2, "weapons": ["mortar", "drone"]}


def test_the_diff_lists_only_what_changed_was_added_or_removed():
    rows = event_diff({"status": "proposed", "note": "old", "same": 1, "gone": "x"},
                      {"status": "adopted", "note": "new", "same": 1, "case": "CASE-1"})
    by_field = {r["field"]: r for r in rows}
    assert set(by_field) == {"status", "note", "gone", "case"}
    assert (by_field["status"]["change"], by_field["status"]["before"], by_field["status"]["after"]) == (
        "changed", "Proposed", "Adopted")
    assert by_field["gone"]["change"] == "removed" and by_field["case"]["change"] == "added"


def test_an_event_that_only_records_lists_its_fields_as_added():
    rows = event_diff(None, {"case": "CASE-1", "location": {"lat": 50.0}})
    assert [(r["field"], r["change"], r["after"]) for r in rows] == [
        ("case", "added", "CASE-1"), ("location.lat", "added", "50.0")]


# --- The pages -----------------------------------------------------------------------------


@pytest.fixture
def decided(people, case_in):
    """A case in measures whose measure the chair adopted."""
    case = case_in("measures")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                       description="Targeted sanctions.")
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    return case, measure


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/trail/", "case"])
def test_the_trail_pages_show_actions_in_words_with_the_id_beside(people, decided, web, url):
    case, _measure = decided
    page = web(people["auditor"]).get(f"/cases/{case.pk}/trail/" if url == "case" else url).content.decode()
    assert "Report linked to the case" in page and "Measure adopted" in page
    assert '<small class="mono muted" title="Action id, as stored in the trail">case.report_linked</small>' in page


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "words"), [("fr", ACTION_LABELS["measure.adopted"]),
                                                 ("uk", ACTION_LABELS["measure.adopted"])])
def test_the_trail_speaks_french_and_ukrainian(people, decided, web, language, words):
    case, _measure = decided
    client = web(people["auditor"])
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    page = html.unescape(client.get(f"/cases/{case.pk}/trail/").content.decode())
    with translation.override(language):
        assert str(words) in page


@pytest.mark.django_db
def test_a_changed_field_reads_as_before_and_after(people, decided, web):
    case, _measure = decided
    page = web(people["auditor"]).get(f"/cases/{case.pk}/trail/?action=measure.adopted").content.decode()
    assert '<th scope="row" class="mono">status</th>' in page
    assert "<del>Proposed</del>" in page and "<ins>Adopted</ins>" in page
    assert '<th scope="row" class="mono">compliance</th>' in page  # recorded by the adoption: added
    assert "Stored data (JSON)" in page  # the stored form is still one click away


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "words"), [("en", ("(not there)", "added", "removed")),
                                                 ("fr", ("(absent)", "ajouté", "retiré")),
                                                 ("uk", ("(відсутнє)", "додано", "вилучено"))])
def test_each_added_or_removed_field_says_so_in_the_readers_language(people, web, language, words):
    from audit.services import audit_record

    audit_record(actor=people["chair"], action="case.flagged", object_type="case", object_id=1,
                 before={"gone": "x", "kept": 1}, after={"kept": 1, "new": "y"})
    client = web(people["auditor"])
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    page = html.unescape(client.get("/trail/").content.decode())
    not_there, added, removed = words
    assert page.count(f'<span class="muted">{not_there}</span>') == 2  # one per side, one per row
    assert f'<span class="badge ok">{added}</span>' in page and f'<span class="badge bad">{removed}</span>' in page


@pytest.mark.django_db
def test_a_diff_row_escapes_its_field_and_values_and_keeps_its_markup(people, web):
    from audit.services import audit_record

    audit_record(actor=people["chair"], action="case.flagged", object_type="case", object_id=1,
                 before={"a&b": "<b>old</b>"}, after={"a&b": "<script>x()</script>"})
    page = web(people["auditor"]).get("/trail/").content.decode()
    assert "<script>x()</script>" not in page and "<b>old</b>" not in page
    assert ('<tr class="diff-changed">\n      <th scope="row" class="mono">a&amp;b</th>\n'
            "      <td><del>&lt;b&gt;old&lt;/b&gt;</del></td>\n"
            "      <td><ins>&lt;script&gt;x()&lt;/script&gt;</ins></td>\n    </tr>") in page


def _listed(page: str) -> list[str]:
    import re

    return re.findall(r'<li data-action="([^"]+)">', page)


@pytest.mark.django_db
def test_the_filters_narrow_the_trail(people, decided, case_in, web):
    case, _measure = decided
    other = case_in("verification", title="Another")
    client = web(people["auditor"])
    everything = _listed(client.get("/trail/").content.decode())
    assert "case.opened" in everything
    by_case = _listed(client.get(f"/trail/?case={case.reference}").content.decode())
    assert by_case and len(by_case) < len(everything)
    assert AuditEvent.objects.filter(object_type="case", object_id=str(other.pk)).exists()
    assert _listed(client.get("/trail/?actor=chair&action=measure.adopted").content.decode()) == ["measure.adopted"]
    assert _listed(client.get("/trail/?actor=member1&action=measure.adopted").content.decode()) == []
    mine = _listed(client.get(f"/cases/{case.pk}/trail/?actor=member1").content.decode())
    assert "measure.proposed" in mine and "measure.adopted" not in mine and "case.opened" not in mine
    today = timezone.now().date()
    assert len(_listed(client.get(f"/trail/?date_from={today}&date_to={today}").content.decode())) == len(everything)
    tomorrow = today + timedelta(days=1)
    assert _listed(client.get(f"/trail/?date_from={tomorrow}").content.decode()) == []
    assert _listed(client.get(f"/cases/{case.pk}/trail/?date_to={today - timedelta(days=1)}").content.decode()) == []
    page = client.get("/trail/?action=measure.adopted").content.decode()
    assert '<option value="measure.adopted" selected>Measure adopted</option>' in page


@pytest.mark.django_db
def test_a_bad_date_is_refused_with_400(people, web):
    assert web(people["auditor"]).get("/trail/?date_from=yesterday").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/trail/?actor=chair&action=deadline.set&date_from=2020-01-01", "case"])
def test_the_trail_pages_read_in_a_bounded_number_of_queries(people, case_in, web, url):
    client = web(people["auditor"])

    def count(case):
        target = f"/cases/{case.pk}/trail/?date_from=2020-01-01" if url == "case" else url
        with CaptureQueriesContext(connection) as queries:
            assert client.get(target).status_code == 200
        return len(queries)

    first = case_in("measures", title="First")
    few = count(first)
    for n in range(4):
        services.measure_propose(actor=people["member1"], case=first, kind="sanctions", addressee="RU",
                                 description=f"Measure {n}.")
        case_in("verification", title=f"More {n}")
    assert count(first) == few



def _numbers(page: str) -> list[int]:
    import re

    return [int(n) for n in re.findall(r"Reason: n(\d+)<", page)]


def _link(page: str, label: str) -> str | None:
    import re

    found = re.search(rf'<a class="button secondary" href="([^"]+)">{label}</a>', page)
    return html.unescape(found.group(1)) if found else None


@pytest.mark.django_db
@pytest.mark.parametrize("newest_first", [True, False], ids=["trail", "case-trail"])
def test_the_trail_pages_go_through_every_event_once_in_chain_order(people, case_in, web, newest_first):
    """Keyset pages along seq (no count, no offset): following the links
    shows each event once, in the chain's order (the trail newest first, a
    case's oldest first); the events not sealed yet come at the newest end."""
    from django.db import transaction

    from audit.services import audit_record, trail_seal

    case = case_in("verification", title="Paged")

    def write(numbers):
        with transaction.atomic():
            for n in numbers:
                audit_record(actor=None, action="test.paged", object_type="case", object_id=case.pk,
                             after={"n": n}, reason=f"n{n}")

    write(range(120))
    trail_seal(blocking=True)
    write(range(120, 123))  # after the seal: no seq yet
    assert AuditEvent.objects.filter(action="test.paged", seq__isnull=True).count() == 3
    client = web(people["auditor"])
    url = "/trail/?action=test.paged" if newest_first else f"/cases/{case.pk}/trail/?action=test.paged"
    # The trail runs newest first, its "Older" link goes on; a case's runs
    # oldest first, its "Newer" link goes on.
    onwards = "Older →" if newest_first else "← Newer"
    seen, pages = [], 0
    page = first = client.get(url).content.decode()
    while True:
        pages += 1
        seen += _numbers(page)
        link = _link(page, onwards)
        if link is None:
            break
        page = client.get(link).content.decode()
    expected = list(range(123))
    assert seen == (expected[::-1] if newest_first else expected)
    assert pages == 3
    if newest_first:  # shown before the page's own integrity check sealed them
        assert first.count("being sealed") == 3
