"""The report body's fields are built once per process and language and
shared by every request (reports.serializers._FieldsBuiltOnce): what one request
does with them never shows in the next."""

import pytest

from reports.models import Report
from reports.serializers import ReportInputSerializer
from tests.reports.conftest import body

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/"
TOO_MANY_LINKS = [f"https://example.org/{i}" for i in range(21)]


def _errors(client, language, data):
    response = client.post(URL, data, format="json", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert response["Content-Language"] == language
    return response.json()


@pytest.mark.parametrize("first", ["fr", "en"])
def test_each_request_gets_the_messages_of_its_own_language_whichever_came_first(api, people, first):
    client = api(people["monitor"])
    bad = body(severity=6, weapons="x" * 501, links=TOO_MANY_LINKS)
    answers = {}
    for language in (first, "en" if first == "fr" else "fr", first):
        answers.setdefault(language, []).append(_errors(client, language, bad))
    english, french = answers["en"][0], answers["fr"][0]
    assert english["severity"] == ["Ensure this value is less than or equal to 5."]
    assert english["weapons"] == ["Ensure this field has no more than 500 characters."]
    assert english["links"] == ["Ensure this field has no more than 20 elements."]
    for field in ("severity", "weapons", "links"):
        assert french[field] != english[field], field
    # The language asked for again answers as it did the first time.
    assert answers[first][0] == answers[first][1]


def test_a_partial_body_does_not_make_the_next_full_one_partial(api, people):
    client = api(people["monitor"])
    draft = client.post(URL, body(status="draft"), format="json").json()
    assert client.patch(f"{URL}{draft['id']}/", {"severity": 2}, format="json").status_code == 200
    data = body()
    del data["category"]
    response = client.post(URL, data, format="json")
    assert response.status_code == 400
    assert response.json()["category"] == ["This field is required."]
    assert Report.objects.count() == 1


def test_two_serializers_have_their_own_bound_fields():
    full, partial = ReportInputSerializer(data={}), ReportInputSerializer(data={}, partial=True)
    assert full.fields["links"] is not partial.fields["links"]
    assert full.fields["links"].child is not partial.fields["links"].child
    assert full.fields["links"].root is full and partial.fields["links"].child.root is partial
    assert not full.is_valid() and partial.is_valid()
    assert "occurred_at" in full.errors
