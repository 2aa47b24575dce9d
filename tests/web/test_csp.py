"""The Content-Security-Policy: every page carries it, it never allows inline
script or style, and no template or rendered page relies on either (so the
policy breaks nothing). The browser journeys (tests/web/browser.py) fail on
any refusal Chromium reports; the API docs are tried in a browser here."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.services import evidence_add
from tests.conftest import PASSWORD
from tests.web.browser import Session, make_png, needs_chromium

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "web" / "templates", ROOT / "templates"]
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "<style> element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def inline_code(html: str) -> list[str]:
    return [f"{what}: {m.group(0)!r}" for what, pattern in INLINE.items() for m in pattern.finditer(html)]


def directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


def test_no_template_holds_inline_script_or_style():
    found = {str(path.relative_to(ROOT)): inline_code(path.read_text())
             for folder in TEMPLATE_DIRS for path in folder.rglob("*.html")}
    assert {path: hits for path, hits in found.items() if hits} == {}


def test_every_page_carries_a_policy_without_unsafe_inline(people, web, file_report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = file_report(people["monitor"])
    evidence_add(actor=people["monitor"], report=report, upload=SimpleUploadedFile("p.png", make_png(), "image/png"))
    pages = {
        None: ["/signin/", "/api/docs/"],
        "monitor": ["/", "/my/reports/", "/my/reports/new/", "/outbox/", f"/reports/{report.pk}/"],
        "verifier": ["/inbox/", f"/reports/{report.pk}/"],
        "member1": ["/cases/", "/overview/"],
        "chair": ["/board/"],
        "auditor": ["/trail/"],
    }
    for who, paths in pages.items():
        client = web(people[who] if who else None)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            policy = directives(response["Content-Security-Policy"])
            assert policy["script-src"] == ["'self'"], path
            assert policy["style-src"] == ["'self'"], path
            assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], path
            assert "'unsafe-inline'" not in response["Content-Security-Policy"], path
            assert inline_code(response.content.decode()) == [], path


def test_the_api_docs_start_from_a_script_of_their_own_not_an_inline_one(web):
    page = web().get("/api/docs/").content.decode()
    script = re.search(r'<script src="([^"]*\?[^"]*script=[^"]*)"', page)
    assert script, "the docs page should load its start-up script by URL"
    answer = web().get(script.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in answer.content.decode()


def test_a_configured_tile_server_is_the_only_other_origin_and_for_images_only():
    import os
    import subprocess
    import sys

    code = ("import django; django.setup(); from django.conf import settings; "
            "d = settings.CONTENT_SECURITY_POLICY['DIRECTIVES']; print(d['img-src'], d['connect-src'])")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
           "MAP_TILE_URL": "https://tiles.example.org/{z}/{x}/{y}.png"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[\"'self'\", 'data:', 'https://tiles.example.org'] [\"'self'\"]"


@pytest.mark.browser
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_the_api_docs_work_in_a_browser_under_the_policy(people, browser, live_server):
    s = Session(browser, live_server.url)
    s.sign_in("monitor1", PASSWORD)
    page = s.go("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30000)
    assert "Ceasefire commission API" in page.locator(".swagger-ui .info").inner_text()
    s.close()  # fails on anything the policy refused


def test_the_schema_and_docs_are_public_when_api_docs_public_is_on(settings, web, db):
    settings.API_DOCS_PUBLIC = True
    assert web().get("/api/schema/").status_code == 200
    assert web().get("/api/docs/").status_code == 200


def test_the_schema_and_docs_need_a_signed_in_person_when_api_docs_public_is_off(settings, web, api, people):
    settings.API_DOCS_PUBLIC = False
    assert web().get("/api/schema/").status_code == 401
    docs = web().get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/signin/?next=/api/docs/")
    script = web().get("/api/docs/?script=")
    assert script.status_code == 302
    # Signed in (a page session or an API client), anyone reads them; the docs' script too.
    assert web(people["monitor"]).get("/api/schema/").status_code == 200
    assert web(people["auditor"]).get("/api/docs/").status_code == 200
    assert web(people["auditor"]).get("/api/docs/?script=").status_code == 200
    assert api(people["member1"]).get("/api/schema/").status_code == 200
