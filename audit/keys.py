"""The commission's checkpoint signing key (AUDIT_SIGNING_KEY), read in one
place: the publisher signs with it, every check trusts its public half."""

from django.conf import settings

from config.errors import ApplicationError


class CheckpointsDisabled(ApplicationError):
    status_code = 503
    default_code = "checkpoints_disabled"


def signing_key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw = settings.AUDIT_SIGNING_KEY
    if not raw:
        raise CheckpointsDisabled(
            "AUDIT_SIGNING_KEY is not set: checkpoints cannot be signed (set it to the hex of a 32-byte Ed25519 key)."
        )
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(raw))
    except ValueError:
        raise CheckpointsDisabled("AUDIT_SIGNING_KEY must be the hex of a 32-byte Ed25519 private key.")


def signing_public_key_hex() -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def trusted_public_key_hex() -> str | None:
    """The key stored checkpoints must be signed with; None when none is configured."""
    return signing_public_key_hex() if settings.AUDIT_SIGNING_KEY else None
