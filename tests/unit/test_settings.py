from __future__ import annotations

import re
from pathlib import Path

import pytest

from eventgate.settings import Settings, settings_table_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_readme_documents_every_setting_with_its_default() -> None:
    readme = (ROOT / "README.md").read_text()
    for row in settings_table_markdown().splitlines()[2:]:
        assert row in readme, f"README lacks (or has an outdated) row: {row}"


def test_every_variable_the_docs_mention_is_a_setting() -> None:
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for path in texts:
        for name in re.findall(r"EVENTGATE_([A-Z0-9_]+)", path.read_text()):
            assert name.lower() in Settings.model_fields, f"{path.name}: EVENTGATE_{name}"


def test_environment_is_read_with_the_prefix_and_token_lists_split(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVENTGATE_KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    monkeypatch.setenv("EVENTGATE_ADMIN_TOKENS", " a , b,,c ")
    monkeypatch.setenv("EVENTGATE_REDIS_URL", "rediss://user:secret@r:6380/1")
    settings = Settings()
    assert settings.kafka_bootstrap == "k1:9092,k2:9092"
    assert settings.admin_tokens == ("a", "b", "c")
    assert "secret" not in repr(settings)
    assert settings.topic("ingest") == "eventgate.ingest"


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTGATE_API_PORT", "70000")
    with pytest.raises(ValueError, match="api_port"):
        Settings()
