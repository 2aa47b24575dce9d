from django.contrib.auth.models import Group

from tests.conftest import PASSWORD


def test_a_token_is_issued_for_a_right_password_and_authenticates(people, api):
    response = api().post("/api/v1/auth/token/", {"username": "monitor1", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json() == {"username": "monitor1", "delegation": "TR", "roles": ["monitor"]}


def test_it_refuses_a_wrong_password(people, api):
    response = api().post("/api/v1/auth/token/", {"username": "monitor1", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_anonymous_requests_are_refused_with_401(db, api):
    client = api()
    assert client.get("/api/v1/me/").status_code == 401
    assert client.get("/api/v1/parties/").status_code == 401


def _token_client(api, user):
    from tests.conftest import token_for

    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def test_a_token_brings_its_user_and_the_users_roles_in_one_query_on_postgresql(people, django_assert_num_queries):
    from django.db import connection
    from rest_framework.test import APIRequestFactory

    from accounts.authentication import TokenAuthentication
    from accounts.roles import roles_of
    from tests.conftest import token_for

    key = token_for(people["chair"])
    people["chair"].groups.add(Group.objects.get_or_create(name="auditor")[0])
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {key}")
    queries = 1 if connection.vendor == "postgresql" else 2  # SQLite: the token's query, then the roles'
    with django_assert_num_queries(queries):
        user, _ = TokenAuthentication().authenticate(request)
        assert roles_of(user) == {"chair", "auditor"}
    assert user == people["chair"]


def test_a_user_without_a_role_authenticates_with_no_roles(people, api):
    response = _token_client(api, people["outsider"]).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["roles"] == []


def test_a_role_taken_away_counts_from_the_very_next_request(people, api):
    from reports.models import Report
    from tests.reports.conftest import body

    client = _token_client(api, people["monitor"])
    assert client.post("/api/v1/reports/", body(), format="json").status_code == 201
    people["monitor"].groups.clear()
    assert client.post("/api/v1/reports/", body(), format="json").status_code == 403
    assert Report.objects.count() == 1


def test_an_unknown_token_or_an_inactive_users_token_is_refused_with_401(people, api):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert client.get("/api/v1/me/").status_code == 401
    client = _token_client(api, people["monitor"])
    people["monitor"].is_active = False
    people["monitor"].save()
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"].lower()


def test_the_parties_are_read_only_by_people_with_a_role(people, api):
    assert _token_client(api, people["outsider"]).get("/api/v1/parties/").status_code == 403
    response = _token_client(api, people["monitor"]).get("/api/v1/parties/")
    assert response.status_code == 200
    assert [p["code"] for p in response.json()] == ["RU", "UA"]
