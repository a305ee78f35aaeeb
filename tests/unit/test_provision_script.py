"""The provisioning plan's shell lines: a name that would be more than characters to a shell never gets in."""

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import ConfigError
from gateway.provision.script import shell_word

ANY = st.text(st.characters(exclude_categories=()), max_size=40) | st.sampled_from(["a;b", "$(id)", "a b", "`x`", ""])


@given(ANY)
def test_any_name_is_one_plain_shell_word_or_refused_in_one_printable_line(name: str) -> None:
    try:
        word = shell_word(name)
    except ConfigError as exc:
        message = str(exc)
        assert message.isascii()
        assert message.isprintable()
        assert len(message) < 200
        return
    assert word == name
    echoed = subprocess.run(["sh", "-c", f"printf %s {word}"], capture_output=True, text=True, check=True)
    assert echoed.stdout == name, "the shell reads it as exactly these characters"


@pytest.mark.parametrize(
    "name", ["gkt.in.nla", "acc.bd.detectie.mkb", "retention.ms=-1", "nla-", "max.message.bytes=300000"]
)
def test_the_plans_own_names_pass(name: str) -> None:
    assert shell_word(name) == name
