"""Two-factor sign-in on the pages and the admin, where REQUIRE_2FA is on: a
member signs in with a password, then a code; without an authenticator they
enrol first (QR code, secret, first code, recovery codes shown once); until
then no page opens; monitors are not asked; with it off nothing changes."""

import re

import pytest

from audit.models import AuditEvent
from tests.accounts.test_two_factor import code_now, enrol, next_code
from tests.conftest import PASSWORD
from tests.web.browser import Session, needs_chromium

pytestmark = pytest.mark.django_db


@pytest.fixture
def required(settings):
    settings.REQUIRE_2FA = True


def _password(client, username):
    return client.post("/signin/", {"username": username, "password": PASSWORD, "next": "/cases/"})


def test_with_2fa_off_the_password_alone_signs_a_member_in(people, client):
    response = _password(client, "member1")
    assert response.status_code == 302 and response.url == "/cases/"
    assert client.get("/cases/").status_code == 200


def test_after_the_password_a_member_is_asked_for_a_code_and_reaches_no_page_without_it(people, client, required):
    enrol(people["member1"])
    response = _password(client, "member1")
    assert response.status_code == 302 and response.url.startswith("/signin/code/")
    for path in ("/", "/cases/", "/account/tokens/", "/admin/"):
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked.url.startswith("/signin/code/"), path


def test_a_member_with_the_right_code_reaches_the_pages(people, client, required):
    key, _codes = enrol(people["member1"])
    _password(client, "member1")
    response = client.post("/signin/code/", {"code": next_code(key), "next": "/cases/"})
    assert response.status_code == 302 and response.url == "/cases/"
    assert client.get("/cases/").status_code == 200


def test_a_wrong_code_is_refused_on_the_page_and_audited(people, client, required):
    key, _codes = enrol(people["member1"])
    _password(client, "member1")
    wrong = "000000" if next_code(key) != "000000" else "111111"
    assert client.post("/signin/code/", {"code": wrong}).status_code == 400
    assert client.get("/cases/").status_code == 302
    assert AuditEvent.objects.get(action="two_factor.failed").after["via"] == "signin"


def test_a_recovery_code_signs_in_once(people, client, required):
    _key, codes = enrol(people["member1"])
    _password(client, "member1")
    assert client.post("/signin/code/", {"code": codes[0]}).status_code == 302
    assert client.get("/cases/").status_code == 200
    client.post("/signout/")
    _password(client, "member1")
    assert client.post("/signin/code/", {"code": codes[0]}).status_code == 400
    assert client.get("/cases/").status_code == 302


def test_a_member_without_an_authenticator_enrols_then_gets_recovery_codes(people, client, required):
    _password(client, "member1")
    assert client.get("/signin/code/?next=/cases/").url.startswith("/account/two-factor/")
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/account/two-factor/qr.svg" in html
    qr = client.get("/account/two-factor/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    secret = re.search(r'<code class="mono">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    import base64

    key = base64.b32decode(secret).hex()
    done = client.post("/account/two-factor/", {"code": code_now(key), "next": "/cases/"})
    assert done.status_code == 200
    codes = re.findall(r"<li>([0-9a-z]{8})</li>", done.content.decode())
    assert len(codes) == 10
    assert client.get("/cases/").status_code == 200
    assert AuditEvent.objects.filter(action="two_factor.enrolled", actor=people["member1"]).exists()
    # Shown once: the page now only says it is set up.
    again = client.get("/account/two-factor/").content.decode()
    assert not any(c in again for c in codes)


def test_monitors_are_not_asked_for_a_code(people, client, required):
    response = client.post("/signin/", {"username": "monitor1", "password": PASSWORD, "next": "/my/reports/"})
    assert response.url == "/my/reports/"
    assert client.get("/my/reports/").status_code == 200


def test_the_admin_needs_the_second_factor_too(people, client, required):
    staff = people["member1"]
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    key, _codes = enrol(staff)
    client.post("/admin/login/", {"username": "member1", "password": PASSWORD, "next": "/admin/"})
    blocked = client.get("/admin/")
    assert blocked.status_code == 302 and blocked.url.startswith("/signin/code/")
    client.post("/signin/code/", {"code": next_code(key)})
    assert client.get("/admin/").status_code == 200


def test_the_two_factor_pages_speak_french(people, client, required):
    _password(client, "member1")
    page = client.get("/account/two-factor/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Configurer la connexion à deux facteurs" in page
    enrol(people["member2"])
    client.post("/signout/")
    _password(client, "member2")
    page = client.get("/signin/code/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Connexion à deux facteurs" in page


def test_the_two_factor_pages_hold_no_inline_script_or_style(people, client, required):
    from tests.web.test_csp import inline_code

    _password(client, "member1")
    setup = client.get("/account/two-factor/")
    assert "'unsafe-inline'" not in setup["Content-Security-Policy"]
    assert inline_code(setup.content.decode()) == []
    key = _secret_key(setup.content.decode())
    codes_page = client.post("/account/two-factor/", {"code": code_now(key)})
    assert inline_code(codes_page.content.decode()) == []
    enrol(people["member2"])
    client.post("/signout/")
    _password(client, "member2")
    assert inline_code(client.get("/signin/code/").content.decode()) == []


def _secret_key(html: str) -> str:
    import base64

    secret = re.search(r'<code class="mono">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    return base64.b32decode(secret).hex()


@needs_chromium
def test_a_member_enrols_and_signs_in_with_a_code_in_a_browser_under_the_policy(people, browser, live_server,
                                                                                 settings):
    settings.REQUIRE_2FA = True
    session = Session(browser, live_server.url)
    page = session.go("/signin/")
    page.get_by_label("Username").fill("member1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/two-factor/**")
    assert page.locator("img.qr").evaluate("img => img.naturalWidth") > 0  # the QR code is drawn
    key = _secret_key(page.content())
    page.get_by_label("Code").fill(code_now(key))
    page.get_by_role("button", name="Confirm").click()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="I have kept them: continue").click()
    page.wait_for_url(live_server.url + "/")
    session.close()
