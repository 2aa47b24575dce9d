"""Filing receipts: the service's signed word that it received a record
(docs/audit.md, "Receipts"). The trail knows no reports: the caller names the
reference, the SHA-256 of what was filed and the time."""

import hashlib

from django.conf import settings

from audit import chain
from audit.keys import signing_key, signing_public_key_hex


def record_sha256(record: dict) -> str:
    """SHA-256 of a record in the trail's canonical JSON (sorted keys, no
    spaces, UTF-8, values as the trail stores them)."""
    return hashlib.sha256(chain.canonical(record)).hexdigest()


def receipt_sign(*, reference: str, sha256: str, at) -> dict | None:
    """{reference, sha256, at, signature, public_key}, the signature Ed25519
    over canonical({reference, sha256, at}); None when no signing key is
    configured (nothing could vouch for it). Ed25519 is deterministic, so the
    same receipt signs to the same bytes whenever it is shown again."""
    if not settings.AUDIT_SIGNING_KEY:
        return None
    at_text = at if isinstance(at, str) else chain.format_at(at)
    message = chain.receipt_message(reference=reference, sha256=sha256, at=at_text)
    return {"reference": reference, "sha256": sha256, "at": at_text,
            "signature": signing_key().sign(message).hex(), "public_key": signing_public_key_hex()}
