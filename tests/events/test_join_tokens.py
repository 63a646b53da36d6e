"""Join links and viewer tokens: the join path's signer computes Django's signatures
(a token signed by either validates with the other), follows SECRET_KEY rotation, and
refuses what another salt or a changed byte signed."""

import pytest
from django.core import signing

from events import tokens


def test_a_join_link_signed_by_django_validates_and_the_reverse() -> None:
    by_django = signing.dumps(["W-ABCD1234", 42, "eu-west"], salt=tokens.SALT, compress=False)
    assert tokens.read_join_token(by_django) == tokens.JoinClaim("W-ABCD1234", 42, "eu-west")
    ours = tokens.join_token("W-ABCD1234", 42, "eu-west")
    assert signing.loads(ours, salt=tokens.SALT) == ["W-ABCD1234", 42, "eu-west"]


def test_a_viewer_token_signed_by_django_validates_and_the_reverse() -> None:
    value = ["W-ABCD1234", 42, "edge-1", "session-1"]
    by_django = signing.dumps(value, salt=tokens.VIEWER_SALT, compress=False)
    claim = tokens.read_viewer_token(by_django, max_age=60)
    assert claim == tokens.ViewerClaim("W-ABCD1234", 42, "edge-1", "session-1")
    ours = tokens.viewer_token(*value)
    assert signing.loads(ours, salt=tokens.VIEWER_SALT, max_age=60) == value


def test_links_follow_a_secret_key_rotation(settings) -> None:
    settings.SECRET_KEY = "old-key-" + "x" * 50
    link = tokens.join_token("W-ABCD1234", 7, "us-east")
    settings.SECRET_KEY = "new-key-" + "y" * 50
    assert tokens.read_join_token(link) is None, "signed with a key no longer trusted"
    settings.SECRET_KEY_FALLBACKS = ["old-key-" + "x" * 50]
    assert tokens.read_join_token(link) == tokens.JoinClaim("W-ABCD1234", 7, "us-east")
    assert tokens.read_join_token(tokens.join_token("W-ABCD1234", 7, "us-east")) is not None


@pytest.mark.parametrize("position", [0, 10, -1])
def test_a_changed_byte_or_another_salt_is_refused(position: int) -> None:
    link = tokens.join_token("W-ABCD1234", 42, "eu-west")
    flipped = link[position] if position >= 0 else link[-1]
    other = "A" if flipped != "A" else "B"
    index = position if position >= 0 else len(link) - 1
    assert tokens.read_join_token(link[:index] + other + link[index + 1 :]) is None
    viewer = tokens.viewer_token("W-ABCD1234", 42, "eu-west", "s")
    assert tokens.read_join_token(viewer) is None
    assert tokens.read_viewer_token(link, max_age=60) is None
