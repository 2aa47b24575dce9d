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
