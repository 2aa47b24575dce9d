"""The inbox's cards and their small forms are built by web.inbox_cards, not by
a {% for %} in web/inbox.html (BENCHMARKS.md, "The inbox's cards"). They must
be the very bytes the template's loops rendered, in every language and for
every kind of card: with and without candidates, "and more", "add to that
case", a case reference, a selected card, a refused return box, and text
that needs escaping."""

import re

import pytest
from django.template import engines
from django.utils import translation

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


def test_the_cards_are_the_bytes_the_templates_loops_rendered(people, parties, submitted, web, settings,
                                                              page_context):
    settings.SIMILAR_LIMIT = 2
    m = people["monitor"]
    in_verification = submitted(m, lat=47.5690, place_name="Orikhiv")
    case = services.case_open(actor=people["verifier"], title="Orikhiv", reports=[in_verification])
    for i in range(3):  # more candidates than the limit: "and more"
        submitted(people["monitor2"], lat=47.5691 + i * 0.0004, description=f"Impacts {i}.")
    hostile = submitted(m, lat=49.99, lon=36.23, category="drone_strike", alleged_party=None, place_name="",
                        description='<script>alert("x")</script> & ' + "très long " * 40)
    quoted = submitted(m, lat=46.63, lon=32.61, place_name='Kherson "bridge" <b>&', category="small_arms_fire")
    client = web(people["verifier"])
    pages = [
        page_context(lambda: client.get(f"/inbox/?report={quoted.pk}")),
        page_context(lambda: client.get("/inbox/?sort=newest")),
        # A refused return: its card's box is the bound form, open with its error.
        page_context(lambda: client.post(f"/inbox/{quoted.pk}/return/", {f"return-{quoted.pk}-reason": ""})),
    ]
    for lang in ("en", "fr", "uk"):
        with translation.override(lang):
            for request, context in pages:
                stock, tags = _both(request, context)
                assert tags == stock
    # Every kind of card was there to compare.
    with translation.override("en"):
        stock, _tags = _both(*pages[0])
        refused, _tags = _both(*pages[2])
    assert "And more: only the nearest 2 are shown." in stock
    assert f'form="add-{quoted.pk}-' not in stock and f"Add to {case.reference}" in stock
    assert f"in {case.reference}" in stock and "No duplicate candidates." in stock
    assert f'value="{quoted.pk}" checked>' in stock
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; très" in stock and "…" in stock
    assert "Kherson &quot;bridge&quot; &lt;b&gt;&amp;" in stock
    assert f'<a href="/reports/{hostile.pk}/">' in stock
    assert '<details class="return" open>' in refused
