"""The hand-spliced canonical form used by fast verification is byte-for-byte the recipe's."""

import json

import pytest

from audit import chain, fastverify


@pytest.mark.parametrize("text", ["plain", 'quote " and \\ backslash', "line\nbreak\ttab\x01\x1f", "Київ ✓ 🇺🇦", ""])
def test_the_spliced_canonical_form_equals_the_recipe(text):
    obj = {"seq": 12, "at": "2026-11-24T10:00:00.123456Z", "actor": text or None, "action": text,
           "object_type": text, "object_id": text, "before": {"z": [1, 2.5, None, text], "a": {"é": True}},
           "after": None, "reason": text, "prev_hash": "ab" * 32}
    spliced = fastverify.canonical_text(
        obj["seq"], obj["at"], obj["actor"], obj["action"], obj["object_type"], obj["object_id"],
        json.dumps(obj["before"]), None, obj["reason"], obj["prev_hash"])
    assert spliced.encode("utf-8") == chain.canonical(obj)
