"""chain.canonical_of_json gives, for any JSON text, the very bytes of the
recipe's stdlib encoder (chain.canonical_text of json.loads): orjson where it
is known to agree, the stdlib wherever it may not. A wrong byte here would make
an intact trail look altered, or an export disagree with its own hashes."""

import json
import random

import pytest
from django.db import connection

from audit import chain


def stock(text: str) -> str:
    return chain.canonical_text(json.loads(text))


AWKWARD = [
    # numbers: where orjson writes other text than the stdlib
    "1e-05", "-2.5e-05", "0.00001", "0.0000999", "0.0001", "0.000999", "1e-320", "-0.0", "-0", "0",
    "1E2", "1.0e+2", "1e16", "1e15", "1234567890123456789012.5", "100000000000000000000000.0",
    "18446744073709551615", "18446744073709551616", "-9223372036854775808", "-9223372036854775809",
    "123456789.123456789123456789", "0.1", "5e-324", "1.7976931348623157e308",
    # strings: escapes, controls, separators, non-BMP, what looks like a number inside text
    r'"\u0000\u001f\b\f\n\r\t\"\\/"', '"\u007f\u2028\u2029"', '"Київ ✓ 🇺🇦"', r'"\ud83d\ude00"',
    '"x,3e5:0.00001[1e9"', '""',
    # keys: order by code point, empty, escaped
    '{"b":1,"a":2,"é":3,"z":4,"É":5,"\\ud83d\\ude00":6,"\uffff":7,"a\\u0000":8,"":9,"A":10}',
    '{"a":1,"a":2}', '{"k":{"b":[{"d":1,"c":2}],"a":null}}', "[]", "{}", "true", "null",
    '{"x":[1e-05,{"y":0.00001}],"w":[18446744073709551616]}', "  {\"x\" : [1 , 2]} ",
    "[" * 600 + "]" * 600,
]


@pytest.mark.parametrize("text", AWKWARD)
def test_it_writes_the_stdlib_bytes_for_awkward_documents(text):
    assert chain.canonical_of_json(text) == stock(text)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '"\\ud800"', "[" * 1100 + "]" * 1100])
def test_it_answers_as_the_stdlib_does_where_orjson_refuses_the_text(text):
    try:
        expected = stock(text)
    except RecursionError:
        with pytest.raises(RecursionError):
            chain.canonical_of_json(text)
        return
    assert chain.canonical_of_json(text) == expected


def _value(rng: random.Random, depth: int):
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([rng.randint(-10**6, 10**6), rng.randint(-2**70, 2**70), 0])
    if kind == 2:
        # every magnitude, the small and huge ones included
        return rng.uniform(-1, 1) * 10.0 ** rng.randint(-330, 308)
    if kind == 3:
        return rng.uniform(-180, 180)
    if kind in (4, 5):
        alphabet = "ab,:[e0123456789.-\"\\\n\t\x01\x1f\x7féÉ✓\u2028🕊"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
    if kind in (6, 7):
        return {_key(rng): _value(rng, depth + 1) for _ in range(rng.randrange(6))}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(6))]


def _key(rng: random.Random) -> str:
    return "".join(rng.choice("aAbé_0\u00ff🕊") for _ in range(rng.randrange(1, 4)))


def test_it_writes_the_stdlib_bytes_for_thousands_of_random_documents():
    rng = random.Random(20261207)
    fallbacks = 0
    for _ in range(5000):
        doc = {_key(rng): _value(rng, 0) for _ in range(rng.randrange(1, 8))}
        for text in (json.dumps(doc), json.dumps(doc, ensure_ascii=False, indent=1)):
            assert chain.canonical_of_json(text) == stock(text), text
        fallbacks += chain._orjson_may_differ(chain.canonical_of_json(json.dumps(doc)).encode())
    # The random documents reach both branches.
    assert 0 < fallbacks < 5000


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_writes_the_stdlib_bytes_for_what_postgresql_gives_back_as_jsonb_text():
    """What the chain's check and the export read: jsonb's own text (its key
    order, its spacing, numeric written in full, never with an exponent)."""
    if connection.vendor != "postgresql":
        pytest.skip("jsonb is PostgreSQL's")
    rng = random.Random(7)
    docs = [{_key(rng): _value(rng, 0) for _ in range(rng.randrange(1, 8))} for _ in range(500)]
    # jsonb refuses NUL in text and numbers beyond its range; json.dumps writes
    # no NaN for these finite floats.
    texts = [json.dumps(doc).replace("\\u0000", "") for doc in docs] + AWKWARD[:24]
    with connection.cursor() as cursor:
        cursor.execute("SELECT t::jsonb::text FROM unnest(%s::text[]) AS t", [texts])
        stored = [row[0] for row in cursor.fetchall()]
    assert any("0.0000" in text for text in stored)  # small floats came back in full, not as 1e-05
    for text in stored:
        assert chain.canonical_of_json(text) == stock(text), text
