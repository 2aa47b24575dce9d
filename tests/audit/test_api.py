"""The auditors' API: who may read the trail, and what it answers."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import triggers
from audit.services import trail_seal
from tests.audit.helpers import PUBLIC_KEY, SIGNING_KEY, record, run_script

pytestmark = pytest.mark.django_db

URLS = ["/api/v1/audit/events/", "/api/v1/audit/verify/", "/api/v1/audit/export/", "/api/v1/audit/checkpoints/",
        "/api/v1/audit/public-key/"]


@pytest.fixture(autouse=True)
def signing_key(settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(("who", "status"), [
    ("auditor", 200), ("chair", 200), ("monitor", 403), ("member1", 403), ("verifier", 403), ("outsider", 403),
    (None, 401),
])
def test_only_auditors_and_the_chair_read_the_trail(api, people, url, who, status):
    record(1)
    response = api(people[who] if who else None).get(url)
    assert response.status_code == status


def test_the_event_list_is_in_chain_order_in_the_export_form(api, people):
    record(3, actor=people["monitor"])
    body = api(people["auditor"]).get("/api/v1/audit/events/").json()
    assert [e["seq"] for e in body["results"]] == [1, 2, 3] and body["next"] is None
    assert body["results"][0]["actor"] == "monitor1" and len(body["results"][0]["hash"]) == 64


def test_the_event_list_filters_by_actor_action_and_time(api, people):
    record(2, actor=people["monitor"], action="report.submitted")
    record(1, actor=people["verifier"], action="case.opened")
    client = api(people["auditor"])
    assert len(client.get("/api/v1/audit/events/?actor=verifier1").json()["results"]) == 1
    assert len(client.get("/api/v1/audit/events/?action=report.submitted").json()["results"]) == 2
    future = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    past = (timezone.now() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert client.get("/api/v1/audit/events/", {"after": future}).json()["results"] == []
    assert len(client.get("/api/v1/audit/events/", {"after": past, "before": future}).json()["results"]) == 3
    bad = client.get("/api/v1/audit/events/?after=yesterday")
    assert bad.status_code == 400 and "after" in bad.json()


def test_the_case_filter_says_clearly_when_it_is_not_available(api, people, monkeypatch):
    from audit import scopes

    monkeypatch.setattr(scopes, "_case_scope", None)  # as if no app had registered cases
    response = api(people["auditor"]).get("/api/v1/audit/events/?case=CASE-2026-000001")
    assert response.status_code == 400 and "not available" in str(response.json()["case"])


def test_an_unknown_case_is_a_clear_400(api, people):
    response = api(people["auditor"]).get("/api/v1/audit/events/?case=CASE-2026-999999")
    assert response.status_code == 400 and "No case with reference" in str(response.json()["case"])


def test_the_trail_asks_its_own_permission_not_a_role_name(api, people):
    # Granted directly, with no role: the trail admits whoever holds audit.view_auditevent ...
    from django.contrib.auth.models import Permission

    outsider = people["outsider"]
    outsider.user_permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditevent"))
    assert api(outsider).get("/api/v1/audit/verify/").status_code == 200
    # ... and a role group without it (the auditor's, stripped) no longer reads it.
    from django.contrib.auth.models import Group

    Group.objects.get(name="auditor").permissions.clear()
    auditor = type(people["auditor"]).objects.get(pk=people["auditor"].pk)  # no cached permissions
    assert api(auditor).get("/api/v1/audit/verify/").status_code == 403


@pytest.mark.parametrize("url", ["/api/v1/audit/events/", "/api/v1/audit/checkpoints/"])
def test_lists_take_the_same_number_of_queries_for_1_and_50_items(api, people, url):
    from audit.services import checkpoint_publish

    client = api(people["auditor"])

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    record(1, actor=people["monitor"])
    checkpoint_publish()
    client.get(url)  # the user's roles are cached on it after the first request
    one = count_queries()
    for _ in range(49):
        record(1, actor=people["monitor"])
        checkpoint_publish()
    assert len(client.get(url).json()["results"]) == 50
    assert count_queries() == one


def test_verify_answers_ok_and_the_head(api, people):
    record(2)
    body = api(people["auditor"]).get("/api/v1/audit/verify/").json()
    assert body["ok"] is True and body["checked"] == 2 and body["first_bad_seq"] is None
    assert body["head"]["seq"] == 2 and len(body["head"]["hash"]) == 64


def test_verify_names_the_first_bad_seq(api, people):
    record(3)
    triggers.drop(connection)  # rolled back with the test's transaction
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'forged' WHERE seq = 2")
    body = api(people["chair"]).get("/api/v1/audit/verify/").json()
    assert body["ok"] is False and body["first_bad_seq"] == 2 and body["checked"] == 1


def test_the_export_streams_json_lines_that_the_script_verifies(api, people, tmp_path):
    record(3, actor=people["monitor"])
    response = api(people["auditor"]).get("/api/v1/audit/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert json.loads(text.splitlines()[-1])["checkpoint"]["public_key"] == PUBLIC_KEY
    result = run_script(text, "--public-key", PUBLIC_KEY, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout


def test_checkpoints_are_listed_with_their_public_key(api, people):
    from audit.services import checkpoint_publish

    record(1)
    checkpoint_publish()
    body = api(people["auditor"]).get("/api/v1/audit/checkpoints/").json()
    assert body["results"][0]["seq"] == 1 and body["results"][0]["public_key"] == PUBLIC_KEY
    assert api(people["auditor"]).get("/api/v1/audit/public-key/").json()["public_key"] == PUBLIC_KEY


def test_without_a_signing_key_the_public_key_endpoint_says_so(api, people, settings):
    settings.AUDIT_SIGNING_KEY = None
    response = api(people["auditor"]).get("/api/v1/audit/public-key/")
    assert response.status_code == 503 and "AUDIT_SIGNING_KEY" in response.json()["detail"]


def test_the_schema_documents_the_audit_endpoints(api, people):
    response = api(people["auditor"]).get("/api/schema/?format=json")
    paths = response.json()["paths"] if response["Content-Type"].startswith("application/json") else None
    if paths is None:
        import yaml  # pragma: no cover

        paths = yaml.safe_load(response.content)["paths"]
    for url in URLS:
        assert url in paths


def test_verify_names_the_content_checks_and_takes_full(api, people):
    record(2)
    body = api(people["auditor"]).get("/api/v1/audit/verify/?full=true").json()
    assert body["ok"] and body["incremental"] is False
    assert {c["name"] for c in body["checks"]} == {"ballots", "eligibility"}
    again = api(people["auditor"]).get("/api/v1/audit/verify/").json()
    assert again["ok"] and again["incremental"] is True and again["checked"] == 0
    assert api(people["auditor"]).get("/api/v1/audit/verify/?full=perhaps").status_code == 400


def test_verify_takes_as_many_queries_after_1_as_after_50_new_events_and_full_1_checks_all(api, people):
    record(5)
    client = api(people["auditor"])
    full = client.get("/api/v1/audit/verify/?full=1").json()
    assert full["ok"] and full["incremental"] is False and full["checked"] == 5 and full["verified_point"] is None
    record(1)
    with CaptureQueriesContext(connection) as one:
        body = client.get("/api/v1/audit/verify/").json()
    assert body["incremental"] is True and body["checked"] == 1 and body["verified_point"]["seq"] == 5
    record(49)
    with CaptureQueriesContext(connection) as fifty:
        assert client.get("/api/v1/audit/verify/").json()["checked"] == 50
    assert len(fifty) == len(one)


# A full pass on demand reads every event from seq 1 (minutes at millions):
# the auditors' alone (audit.permissions.can_verify_trail_in_full).
FULL = "/api/v1/audit/verify/?full=1"


def _points():
    from audit.models import VerifiedPoint

    return VerifiedPoint.objects.count()


def test_an_auditor_may_ask_for_a_full_pass(api, people):
    record(3)
    response = api(people["auditor"]).get(FULL)
    assert response.status_code == 200
    assert response.json()["incremental"] is False and response.json()["checked"] == 3
    assert _points() == 1  # the pass found the trail intact and signed a verified point


def test_the_chair_asking_for_a_full_pass_is_refused_403_and_nothing_is_verified(api, people):
    record(3)
    client = api(people["chair"])
    response = client.get(FULL)
    assert response.status_code == 403
    assert response.json()["code"] == "full_verification_refused"
    assert "Only auditors may ask for a full verification pass" in response.json()["detail"]
    assert _points() == 0
    # The chair still reads the trail and its incremental check.
    assert client.get("/api/v1/audit/verify/").status_code == 200
    assert client.get("/api/v1/audit/verify/?full=0").status_code == 200


@pytest.mark.parametrize(("who", "status"), [
    ("outsider", 403), ("member1", 403), ("verifier", 403), ("monitor", 403), (None, 401),
])
def test_an_outsider_asking_for_a_full_pass_is_refused(api, people, who, status):
    record(3)
    assert api(people[who] if who else None).get(FULL).status_code == status
    assert _points() == 0


@pytest.mark.parametrize(("language", "words"), [
    ("fr", "Seuls les auditeurs peuvent demander une vérification complète"),
    ("uk", "Лише аудитори можуть запросити повну перевірку"),
])
def test_the_full_pass_refusal_is_said_in_the_readers_language(api, people, language, words):
    response = api(people["chair"]).get(FULL, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 403 and words in response.json()["detail"]


def test_the_full_pass_asks_the_trails_own_permission_not_a_role_name(api, people):
    from django.contrib.auth.models import Permission

    def grant(user, codename):
        user.user_permissions.add(Permission.objects.get(content_type__app_label="audit", codename=codename))
        return type(user).objects.get(pk=user.pk)  # no cached permissions

    record(2)
    # The full-pass right alone does not open the trail ...
    outsider = grant(people["outsider"], "verify_trail_in_full")
    assert api(outsider).get(FULL).status_code == 403
    # ... with the right to read it, it does; and the chair, granted it by hand, may.
    outsider = grant(outsider, "view_auditevent")
    assert api(outsider).get(FULL).status_code == 200
    assert api(grant(people["chair"], "verify_trail_in_full")).get(FULL).status_code == 200


def _walk_events(client, url) -> list[list]:
    """The seqs of every page of a cursor list, following `next` to the end."""
    pages = []
    while url:
        body = client.get(url).json()
        pages.append([e["seq"] for e in body["results"]])
        url = body["next"]
    return pages


def test_the_event_list_pages_along_seq_and_shows_each_event_once(api, people):
    record(23, actor=people["monitor"])
    pages = _walk_events(api(people["auditor"]), "/api/v1/audit/events/?page_size=5")
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert sum(pages, []) == list(range(1, 24))


def test_events_not_sealed_yet_follow_on_the_last_page_only(api, people):
    record(7, actor=people["monitor"])
    record(2, actor=people["verifier"], seal=False)
    client = api(people["auditor"])
    pages = _walk_events(client, "/api/v1/audit/events/?page_size=3")
    assert pages == [[1, 2, 3], [4, 5, 6], [7, None, None]]
    last = client.get("/api/v1/audit/events/?page_size=3&actor=verifier1").json()
    assert [(e["seq"], e["actor"]) for e in last["results"]] == [(None, "verifier1"), (None, "verifier1")]
    trail_seal()
    assert _walk_events(client, "/api/v1/audit/events/?page_size=3") == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_the_previous_link_leads_back_without_the_waiting_events(api, people):
    record(5, actor=people["monitor"])
    record(1, seal=False)
    client = api(people["auditor"])
    second = client.get(client.get("/api/v1/audit/events/?page_size=3").json()["next"]).json()
    assert [e["seq"] for e in second["results"]] == [4, 5, None]
    first = client.get(second["previous"]).json()
    assert [e["seq"] for e in first["results"]] == [1, 2, 3]


def test_the_event_list_costs_the_same_at_3_and_at_60_events(api, people):
    client = api(people["auditor"])

    def count_queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    record(3, actor=people["monitor"])
    client.get("/api/v1/audit/events/")  # the user's roles are cached on it after the first request
    few = count_queries("/api/v1/audit/events/?page_size=10")  # the newest end: sealed, then waiting
    record(57, actor=people["monitor"])
    record(2, seal=False)
    url, pages = "/api/v1/audit/events/?page_size=10", []
    while url:
        pages.append(url)
        url = client.get(url).json()["next"]
    assert len(pages) == 6
    assert count_queries(pages[0]) == few - 1  # no waiting events before the newest end
    assert count_queries(pages[-1]) == few


def test_a_page_number_is_refused_with_what_to_do_instead(api, people):
    record(3)
    refused = api(people["auditor"]).get("/api/v1/audit/events/", {"page": 2})
    assert refused.status_code == 400 and "next" in refused.json()["page"][0]


def test_the_newest_end_lists_what_was_sealed_after_the_page_was_read_once_and_with_its_seq(people):
    # Between the page's read and the newest end's, the sealer may give the
    # waiting events their seq: they must be neither missed nor listed twice.
    from audit.models import AuditEvent
    from audit.selectors import newest_end

    record(3)
    record(2, seal=False)
    trail_seal()  # sealed "between the two reads": seq 4 and 5
    record(1, seal=False)
    rows = newest_end(AuditEvent.objects.all(), after_seq=3, size=10)
    assert [e.seq for e in rows] == [4, 5, None]
    assert [e.seq for e in newest_end(AuditEvent.objects.all(), after_seq=3, size=2)] == [4, 5]


def test_a_hand_made_cursor_cannot_skip_entries_by_offset(api, people):
    import base64

    record(5)
    cursor = base64.b64encode(b"o=999999&p=1").decode()
    body = api(people["auditor"]).get("/api/v1/audit/events/", {"cursor": cursor, "page_size": 2}).json()
    assert [e["seq"] for e in body["results"]] == [3, 4]  # the offset is capped at one row past seq 1
