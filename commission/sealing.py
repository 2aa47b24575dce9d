"""Open-round ballots at rest: what a member chose, why, and the salt of the
commitment are sealed together with BALLOT_SEALING_KEY (Fernet: AES-CBC and an
HMAC, from `cryptography`), a key kept outside the database. A database or
backup reader sees ciphertext and the commitment, nothing else; a sealed value
altered in place no longer opens (the HMAC), and one re-sealed by someone who
holds the key still has to match the commitment the trail recorded when the
ballot was cast (commission.selectors.ballots_not_matching_trail).

Opened by the tally (to count and reveal), by the check of ballots against
the trail, and for the voter's own ballot (they may see their own choice).
Without BALLOT_SEALING_KEY (development, tests) the key is derived from
SECRET_KEY; production requires its own key (config/settings_production.py).
"""

import base64
import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@dataclass(frozen=True)
class BallotContent:
    choice: str
    rationale: str
    salt: str


def _fernet() -> Fernet:
    key = settings.BALLOT_SEALING_KEY
    if not key:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ceasefire ballot sealing").derive(
            settings.SECRET_KEY.encode())
        key = base64.urlsafe_b64encode(derived).decode()
    return Fernet(key)


def seal(*, choice: str, rationale: str, salt: str) -> str:
    payload = json.dumps({"choice": choice, "rationale": rationale, "salt": salt}, ensure_ascii=False)
    return _fernet().encrypt(payload.encode("utf-8")).decode("ascii")


def unseal(token: str) -> BallotContent | None:
    """The sealed content, or None when it does not open (altered, or sealed
    with another key): such a ballot cannot be counted."""
    try:
        data = json.loads(_fernet().decrypt(token.encode("ascii")))
        return BallotContent(choice=data["choice"], rationale=data["rationale"], salt=data["salt"])
    except (InvalidToken, ValueError, KeyError, TypeError, UnicodeError):
        return None
