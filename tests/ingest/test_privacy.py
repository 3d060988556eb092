"""Author pseudonyms: keyed, stable, case-insensitive; raw handles only when configured."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from earful.errors import ConfigError
from earful.ingest.privacy import Pseudonymiser, pseudonymiser_from_settings
from earful.ingest.settings import IngestSettings

KEY = b"k" * 32


def test_pseudonym_is_stable_and_ignores_case_and_at_sign() -> None:
    privacy = Pseudonymiser(KEY)
    first = privacy.author("mastodon", "@Alice@example.social")
    again = Pseudonymiser(KEY).author("mastodon", "alice@EXAMPLE.social")
    assert first == again
    assert first.handle is None
    assert first.author.startswith("u_") and len(first.author) == 26
    assert "alice" not in first.author


def test_pseudonym_depends_on_key_and_source() -> None:
    a = Pseudonymiser(KEY).pseudonym("bluesky", "alice.bsky.social")
    assert Pseudonymiser(b"x" * 32).pseudonym("bluesky", "alice.bsky.social") != a
    assert Pseudonymiser(KEY).pseudonym("reddit", "alice.bsky.social") != a
    assert Pseudonymiser(KEY).pseudonym("bluesky", "bob.bsky.social") != a


def test_raw_handles_keep_the_handle() -> None:
    author = Pseudonymiser(None, raw_handles=True).author("reddit", " u_alice ")
    assert author.author == "u_alice"
    assert author.handle == "u_alice"


def test_missing_key_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="EARFUL_PSEUDONYM_KEY"):
        Pseudonymiser(None)


def test_key_from_settings_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARFUL_PSEUDONYM_KEY", "0123456789abcdef0123")
    from_env = pseudonymiser_from_settings(IngestSettings())
    monkeypatch.delenv("EARFUL_PSEUDONYM_KEY")
    secret = tmp_path / "key"
    secret.write_text("0123456789abcdef0123\n", encoding="utf-8")
    from_file = pseudonymiser_from_settings(IngestSettings(pseudonym_key_file=secret))
    assert from_env.pseudonym("x", "alice") == from_file.pseudonym("x", "alice")


def test_short_key_and_missing_key_file_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 16"):
        IngestSettings(pseudonym_key=SecretStr("short")).pseudonym_key_bytes()
    with pytest.raises(ConfigError, match="pseudonym_key_file"):
        IngestSettings(pseudonym_key_file=tmp_path / "missing").pseudonym_key_bytes()
