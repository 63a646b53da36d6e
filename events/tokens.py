"""Personal join links: signed tokens, so validating one reads no database.

A token carries the webinar code, the registrant id and the registrant's region, signed
with the project's SECRET_KEY under its own salt (a token from another signer, e.g. a
password-reset link, never validates here). A deleted registrant's id goes into the
webinar's revocation set in Redis (`revoked_key`), which the admission script checks; all
of a webinar's Redis keys share the hash tag `{W-XXXX}` so the scripts run on Redis Cluster.
"""

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.utils.encoding import force_bytes

SALT = "events.join"


@lru_cache(maxsize=16)
def _keyed_hmac(key_salt: str, secret: str | bytes) -> "hmac.HMAC":
    """Django's salted HMAC (`django.utils.crypto.salted_hmac`, SHA-256) with its derived
    key computed once: the join path checks one token and signs another per request, and
    deriving the key and building the signer are most of the cost of each."""
    key = hashlib.sha256(force_bytes(key_salt) + force_bytes(secret)).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


class _Signer(signing.TimestampSigner):
    """`signing.TimestampSigner` computing its signatures from a cached keyed HMAC: the
    same bytes as Django's (a token signed by either validates with the other; the tests
    check both ways), SECRET_KEY_FALLBACKS included."""

    def signature(self, value: str | bytes, key: str | bytes | None = None) -> str:
        mac = _keyed_hmac(self.salt + "signer", key or self.key).copy()
        mac.update(force_bytes(value))
        return signing.b64_encode(mac.digest()).decode()


@lru_cache(maxsize=16)
def _signer_for(salt: str, key: str, fallbacks: tuple[str, ...]) -> _Signer:
    return _Signer(key=key, salt=salt, fallback_keys=list(fallbacks), algorithm="sha256")


def _signer(salt: str) -> _Signer:
    """This salt's signer for the current SECRET_KEY and fallbacks (built once)."""
    return _signer_for(salt, settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))


def _dumps(value: object, salt: str) -> str:
    return _signer(salt).sign_object(value, compress=False)


def _loads(token: str, salt: str, max_age: float | None = None) -> object:
    return _signer(salt).unsign_object(token, max_age=max_age)


@dataclass(frozen=True)
class JoinClaim:
    webinar_code: str
    registrant_id: int
    region: str


def join_token(webinar_code: str, registrant_id: int, region: str) -> str:
    return _dumps([webinar_code, registrant_id, region], SALT)


def read_join_token(token: str) -> JoinClaim | None:
    """The claim of a well-formed, correctly signed token; None for anything else."""
    if not isinstance(token, str) or len(token) > 300:
        return None
    try:
        value = _loads(token, SALT)
    except signing.BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not isinstance(value[0], str)
        or not isinstance(value[1], int)
        or isinstance(value[1], bool)
        or not isinstance(value[2], str)
    ):
        return None
    return JoinClaim(webinar_code=value[0], registrant_id=value[1], region=value[2])


def hash_tag(webinar_code: str) -> str:
    """`{W-XXXX}`: Redis Cluster places every key with the same tag on the same shard."""
    return "{" + webinar_code + "}"


def revoked_key(webinar_code: str) -> str:
    """Set of registrant ids whose links no longer admit (registrant deleted)."""
    return f"{hash_tag(webinar_code)}:revoked"


# Invitation links of Event Services staff: the assignment's opaque code, signed and
# timestamped under their own salt, so a link from another signer never validates and an
# old one expires (settings.STAFF_INVITATION_LINK_DAYS).
INVITATION_SALT = "events.staff-invitation"


def invitation_token(assignment_code: str) -> str:
    return signing.dumps(assignment_code, salt=INVITATION_SALT, compress=False)


def read_invitation_token(token: str, *, max_age_days: int) -> str | None:
    """The assignment code of a well-formed, correctly signed, unexpired token; else None."""
    if not isinstance(token, str) or len(token) > 300:
        return None
    try:
        value = signing.loads(token, salt=INVITATION_SALT, max_age=max_age_days * 86400)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    return value if isinstance(value, str) else None


# --- Viewer tokens: what the player shows its edge -----------------------------------------
# Short-lived (ATTENDEE_VIEWER_TOKEN_TTL_S, renewed with every heartbeat) and signed under
# their own salt: an edge admits a viewer by checking the signature and age alone, and a
# join link is never accepted as a viewer token (nor the reverse).
VIEWER_SALT = "events.viewer"


@dataclass(frozen=True)
class ViewerClaim:
    webinar_code: str
    registrant_id: int
    edge: str
    session: str


def viewer_token(webinar_code: str, registrant_id: int, edge: str, session: str) -> str:
    return _dumps([webinar_code, registrant_id, edge, session], VIEWER_SALT)


def read_viewer_token(token: str, *, max_age: float) -> ViewerClaim | None:
    """The claim of a correctly signed viewer token at most `max_age` seconds old."""
    if not isinstance(token, str) or len(token) > 500:
        return None
    try:
        value = _loads(token, VIEWER_SALT, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired included
        return None
    if not isinstance(value, list) or len(value) != 4:
        return None
    code, registrant_id, edge, session = value
    if not (
        isinstance(code, str)
        and isinstance(registrant_id, int)
        and not isinstance(registrant_id, bool)
        and isinstance(edge, str)
        and isinstance(session, str)
    ):
        return None
    return ViewerClaim(code, registrant_id, edge, session)
