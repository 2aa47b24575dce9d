"""The inbox's cards and their small forms are built by web.inbox_cards, not by
a {% for %} in web/inbox.html (BENCHMARKS.md, "The inbox's cards"). They must
be the very bytes the template's loops rendered, in every language and for
every kind of card: with and without candidates, "and more", "add to that
case", a case reference, a selected card, a refused return box, and text
that needs escaping."""

import re

import pytest
from django.template import engines
from django.utils import timezone, translation

from commission import services
from web import inbox_pages

pytestmark = pytest.mark.django_db

# The loops web.inbox_cards replaced, as they were in web/inbox.html: the stock way to compare with.
STOCK = """{% load i18n web %}<ul class="cards">{% for item in items %}{% with r=item.report %}
    <li class="card">
      <label class="checkbox"><input type="checkbox" name="reports" value="{{ r.pk }}"{% if r.pk|stringformat:"s" in selected %} checked{% endif %}>
        <span><strong>{{ r.reference }}</strong> · {{ r.category|label }}</span></label>
      <p>{{ r.occurred_at|local_time }} · {{ r.place_name|default:"—" }} <span class="mono">({{ r.lat }}, {{ r.lon }})</span> · {% translate "alleged" %}: {{ r.alleged_party.code|default:"—" }}</p>
      <p>{{ r.description|truncatechars:160 }}</p>
      <p><a href="{% url 'web:report_detail' r.pk %}">{% translate "Read the report" %}</a></p>
      {% if item.similar %}<p><strong>{% translate "Possible duplicates" %}</strong></p><ul>{% for s in item.similar %}
        <li><a href="{% url 'web:report_detail' s.pk %}">{{ s.reference }}</a> · {% blocktranslate with d=s.distance_m|floatformat:"0" %}{{ d }} m away{% endblocktranslate %} · {{ s.occurred_at|date:"Y-m-d H:i" }}{% if s.case_reference %} · {% translate "in" %} {{ s.case_reference }}{% endif %}</li>{% endfor %}
        {% if item.similar.more %}<li class="muted">{% blocktranslate count n=similar_limit %}And more: only the nearest {{ n }} is shown.{% plural %}And more: only the nearest {{ n }} are shown.{% endblocktranslate %}</li>{% endif %}</ul>
      {% for case in item.join %}<p><button type="submit" form="add-{{ r.pk }}-{{ case.pk }}" class="secondary">{% blocktranslate with ref=case.reference %}Add to {{ ref }}{% endblocktranslate %}</button></p>{% endfor %}
      {% else %}<p class="muted">{% translate "No duplicate candidates." %}</p>{% endif %}
      {% return_box item.return_form %}
    </li>{% endwith %}{% endfor %}</ul>{% for item in items %}<form id="{{ item.return_form.element_id }}" method="post" action="{% url 'web:report_return' item.report.pk %}" novalidate>{% csrf_token %}</form>
{% for case in item.join %}<form id="add-{{ item.report.pk }}-{{ case.pk }}" method="post" action="{% url 'web:inbox_add_to_case' item.report.pk case.pk %}" data-once>{% csrf_token %}</form>{% endfor %}{% endfor %}
"""  # noqa: E501
TAGS = '{% load web %}<ul class="cards">{% inbox_cards items %}</ul>{% inbox_card_forms items %}\n'
# Each render masks the CSRF token anew: compared without it.
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')


@pytest.fixture
def page_context(monkeypatch):
    """page_context(response_of) -> the context the inbox view rendered with."""
    seen = {}
    render = inbox_pages.render

    def capture(request, name, context, *args, **kwargs):
        seen.update(request=request, context=context)
        return render(request, name, context, *args, **kwargs)

    monkeypatch.setattr(inbox_pages, "render", capture)

    def get(respond):
        seen.clear()
        respond()
        return seen["request"], seen["context"]

    return get


def _both(request, context) -> tuple[str, str]:
    django = engines["django"]
    stock = django.from_string(STOCK).render(context, request=request)
    tags = django.from_string(TAGS).render(context, request=request)
    return CSRF.sub(r'\1"', stock), CSRF.sub(r'\1"', tags)


def _card(page: str, report) -> str:
    return page.split(f'value="{report.pk}"')[1].split('<li class="card">')[0]


def test_the_cards_are_the_bytes_the_templates_loops_rendered(people, parties, submitted, web, settings,
                                                              page_context):
    m, verifier = people["monitor"], people["verifier"]
    # Near Orikhiv: a report in each of two cases still taking reports, one in a
    # case past verification, and four in no case (six candidates each).
    taking = [services.case_open(actor=verifier, title=f"Orikhiv {i}",
                                 reports=[submitted(m, lat=47.5690 + i * 0.0001, place_name="Orikhiv")])
              for i in range(2)]
    past = services.case_open(actor=verifier, title="Orikhiv, verified", reports=[submitted(m, lat=47.5693)])
    services.verification_record(actor=verifier, case=past, outcome="confirmed", findings="Craters.")
    cluster = [submitted(people["monitor2"], lat=47.5694 + i * 0.0004, description=f"Impacts {i}.") for i in range(4)]
    # Near Kharkiv a pair (one candidate each), and alone in Donetsk a report with no party, no place.
    quoted = submitted(m, lat=49.99, lon=36.23, place_name='Kharkiv "market" <b>&', category="small_arms_fire")
    submitted(m, lat=49.9901, lon=36.23, category="small_arms_fire")
    hostile = submitted(m, lat=48.0, lon=37.8, category="drone_strike", alleged_party=None, place_name="",
                        description='<script>alert("x")</script> & ' + "très long " * 40)
    client = web(people["verifier"])
    pages = {}
    for limit in (1, 2, 5):  # "and more" in each plural form (Ukrainian has three), and none near Kharkiv
        settings.SIMILAR_LIMIT = limit
        pages[limit] = page_context(lambda: client.get(f"/inbox/?report={quoted.pk}"))
    pages["newest"] = page_context(lambda: client.get("/inbox/?sort=newest"))
    # A refused return: its card's box is the bound form, open with its error.
    pages["refused"] = page_context(lambda: client.post(f"/inbox/{quoted.pk}/return/",
                                                        {f"return-{quoted.pk}-reason": ""}))
    # Not UTC, so that a candidate's time is shown in the active time zone as the date filter does.
    with timezone.override("Europe/Kyiv"):
        for lang in ("en", "fr", "uk"):
            with translation.override(lang):
                for request, context in pages.values():
                    stock, tags = _both(request, context)
                    assert tags == stock
    # Every kind of card was there to compare.
    with translation.override("en"):
        shown = {key: _both(*page)[0] for key, page in pages.items()}
    assert all("And more: only the nearest 1 is shown." in _card(shown[1], r) for r in cluster)
    assert all("And more: only the nearest 2 are shown." in _card(shown[2], r) for r in cluster)
    assert "And more" not in _card(shown[2], quoted) and "Possible duplicates" in _card(shown[2], quoted)
    fullest = _card(shown[5], cluster[0])
    assert "And more: only the nearest 5 are shown." in fullest
    assert all(f"Add to {case.reference}" in fullest for case in taking)
    assert f"in {past.reference}" in fullest and f"Add to {past.reference}" not in fullest
    assert f'form="add-{quoted.pk}-' not in shown[5]
    assert f'value="{quoted.pk}" checked>' in shown[5]
    assert "No duplicate candidates." in _card(shown[5], hostile)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; très" in shown[5] and "…" in shown[5]
    assert "Kharkiv &quot;market&quot; &lt;b&gt;&amp;" in shown[5]
    assert f'<a href="/reports/{hostile.pk}/">' in shown[5]
    assert '<details class="return" open>' in shown["refused"]
