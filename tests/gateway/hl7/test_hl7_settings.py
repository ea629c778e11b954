"""The `hl7` settings section: off by default, and a decisions connector must exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.hl7.edge import tls_of
from gateway.settings import Hl7Settings, SettingsError, load_settings


def test_the_listener_is_off_by_default() -> None:
    assert load_settings(environ={}).hl7.enabled is False


def test_settings_name_the_bad_key(tmp_path: Path) -> None:
    config = tmp_path / "casegate.yaml"
    config.write_text("hl7:\n  enabled: true\n  decisions_to: nowhere\n")
    with pytest.raises(SettingsError, match=r"hl7\.decisions_to names no connector instance"):
        load_settings(config, environ={})
    config.write_text("hl7:\n  senders: [{application: EPIC, networks: [not-a-network]}]\n")
    with pytest.raises(SettingsError, match=r"hl7\.senders\.0\.networks\.0"):
        load_settings(config, environ={})


def test_a_certificate_needs_its_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="go together"):
        tls_of(Hl7Settings(tls_cert_file=tmp_path / "listener.crt"))
