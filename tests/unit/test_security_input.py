"""Input sanitizing, trusted-proxy client IPs and the password policy."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import BaseModel, ValidationError

from app.security.client_ip import TrustedProxies
from app.security.passwords import SCORED_PREFIX, PasswordService, WeakPassword
from app.security.sanitize import SafeText, Username, clean_text
from app.settings import Settings


class Note(BaseModel):
    text: SafeText
    author: Username


def test_free_text_is_normalised_and_stripped_of_controls() -> None:
    note = Note(text="  Ｔｒａｄｅ\u200b for an ace\x1b[31m\u202e\n ", author="Ｃasey")
    assert note.text == "Trade for an ace[31m"
    assert note.author == "casey"


def test_free_text_with_a_nul_is_refused_not_stripped() -> None:
    with pytest.raises(ValidationError, match="NUL"):
        Note(text="Trade for\x00 an ace", author="casey")


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "click javascript:alert(1)",
        "&lt;script&gt;",
        "＜script＞",  # fullwidth brackets become < > under NFKC
        "a\x00<b>bold</b>",
        "hello onload = steal()",
    ],
)
def test_markup_and_script_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        Note(text=text, author="casey")


@pytest.mark.parametrize(
    "name", ["ab", "bad\x00name", "tab\tname", "rtl\u202ename", "a b c", "-dash"]
)
def test_bad_usernames_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        Note(text="ok", author=name)


def test_plain_text_with_angle_math_is_kept() -> None:
    assert clean_text("WAR 3 > 2 and 1 < 2") == "WAR 3 > 2 and 1 < 2"


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    proxies = TrustedProxies(["10.0.0.0/8", "::1"])

    def scope(peer: str, forwarded: str | None) -> dict[str, object]:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        return {"client": (peer, 1), "headers": headers}

    assert proxies.client_ip(scope("198.51.100.9", "1.2.3.4")) == "198.51.100.9"
    assert proxies.client_ip(scope("10.0.0.5", "1.2.3.4")) == "1.2.3.4"
    # The client wrote "6.6.6.6" itself; the proxies appended the real address.
    assert proxies.client_ip(scope("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.7")) == "1.2.3.4"
    assert proxies.client_ip(scope("10.0.0.5", "not-an-ip")) == "10.0.0.5"
    assert proxies.client_ip(scope("::1", None)) == "::1"


@pytest.fixture
def passwords(make_settings: Callable[..., Settings]) -> PasswordService:
    return PasswordService(make_settings())


async def test_policy_scores_only_the_first_72_characters(passwords: PasswordService) -> None:
    strong = "correct horse battery staple"
    assert await passwords.check_policy(strong, user_inputs=["someone"]) >= 3
    # Weak within the scored prefix: a long tail does not rescue it.
    weak_head = "a" * SCORED_PREFIX + strong
    with pytest.raises(WeakPassword) as caught:
        await passwords.check_policy(weak_head, user_inputs=[])
    assert caught.value.extensions["score"] < 3
    with pytest.raises(WeakPassword):
        await passwords.check_policy("casey.stengel1", user_inputs=["casey.stengel1"])


async def test_hash_covers_the_whole_password_and_verify_handles_unknown_users(
    passwords: PasswordService,
) -> None:
    long = "p" * 100 + "-tail"
    hashed = await passwords.hash(long)
    assert hashed.startswith("$argon2id$")
    assert (await passwords.verify(hashed, long)).ok
    assert not (await passwords.verify(hashed, "p" * 100 + "-TAIL")).ok
    assert not (await passwords.verify(None, long)).ok
    # An unknown user was checked against a real Argon2id hash, costing the same time.
    assert passwords._dummy_hash is not None
    assert passwords._dummy_hash.startswith("$argon2id$")
    assert not (await passwords.verify("not a hash", long)).ok
    passwords.close()
