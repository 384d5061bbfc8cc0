"""Secrets in settings: a secret type, masked in `numrep config`, reprs and logs, still usable where needed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from numrep.config import Settings, load_settings, redacted_url, reveal
from numrep.logs import KeyValueFormatter

SECRETS = {
    "NUMREP_API_KEY": "nrk_s3cret-api-key-value",
    "NUMREP_HASH_KEY": "h" * 40 + "-s3cret-hash",
    "NUMREP_BROKER_URL": "redis://:s3cret-redis-pw@redis:6379/0",
    "NUMREP_CASSANDRA_USERNAME": "numrep",
    "NUMREP_CASSANDRA_PASSWORD": "s3cret-cassandra-pw",
}
CLEAR = ("s3cret-api-key", "s3cret-hash", "s3cret-redis-pw", "s3cret-cassandra-pw")


def test_every_secret_setting_has_a_secret_type() -> None:
    secretish = [
        n
        for n in Settings.model_fields
        if n in ("api_key", "hash_key", "broker_url") or n.endswith(("_password", "_secret", "_token"))
    ]
    assert {"api_key", "hash_key", "broker_url", "cassandra_password"} <= set(secretish)
    for name in secretish:
        assert "SecretStr" in str(Settings.model_fields[name].annotation), name


def test_secrets_are_masked_in_reprs_and_logs(tmp_path: Path) -> None:
    s = load_settings(environ={**SECRETS, "NUMREP_DATA_DIR": str(tmp_path)})
    for text in (repr(s), str(s), str(s.model_dump())):
        assert not any(c in text for c in CLEAR), text
    record = logging.LogRecord("numrep", logging.INFO, __file__, 1, "settings", (), None)
    record.__dict__.update(settings=s, api_key=s.api_key, broker=s.shown("broker_url"))
    line = KeyValueFormatter("%(message)s").format(record)
    assert not any(c in line for c in CLEAR), line
    # ... and yet usable where they are needed
    assert reveal(s.api_key) == SECRETS["NUMREP_API_KEY"]
    assert s.celery_broker_url == SECRETS["NUMREP_BROKER_URL"]
    assert s.hmac_key == SECRETS["NUMREP_HASH_KEY"].encode()
    assert isinstance(s.cassandra_password, SecretStr)


def test_numrep_config_masks_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from numrep.cli import main

    result = CliRunner().invoke(main, ["config"], env={**SECRETS, "NUMREP_DATA_DIR": str(tmp_path), "COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert not any(c in result.output for c in CLEAR), result.output
    assert "redis://:********@redis:6379/0" in result.output  # where the broker is, without its password
    assert "nrk_" not in result.output


def test_url_redaction() -> None:
    assert redacted_url("redis://:pw@redis:6379/0") == "redis://:********@redis:6379/0"
    assert redacted_url("redis://user:pw@redis/0") == "redis://user:********@redis/0"
    assert redacted_url("redis://redis:6379/0") == "redis://redis:6379/0"
    assert (
        redacted_url("sqla+sqlite:////var/lib/numrep/broker.sqlite3") == "sqla+sqlite:////var/lib/numrep/broker.sqlite3"
    )


def test_cassandra_credentials_go_together() -> None:
    from numrep.errors import ConfigError

    with pytest.raises(ConfigError, match="NUMREP_CASSANDRA_USERNAME and NUMREP_CASSANDRA_PASSWORD go together"):
        load_settings(environ={"NUMREP_CASSANDRA_USERNAME": "numrep"})


def test_the_cli_sends_the_secret_api_key(
    settings: Settings, sqlite_store: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from numrep import auth
    from numrep.cli import main
    from numrep.models import Scope
    from numrep.store.base import Store
    from services.server import Server

    assert isinstance(sqlite_store, Store)
    secured = settings.model_copy(update={"auth_required": True})
    raw, _ = auth.create_key(sqlite_store, secured, "switch", [Scope.LOOKUP])
    srv = Server(secured, store=sqlite_store, nudge=lambda: None).start()
    try:
        env = {"NUMREP_DATA_DIR": str(settings.data_dir), "NUMREP_API_KEY": raw}
        ok = CliRunner().invoke(main, ["lookup", "110", "--target", srv.address, "--json"], env=env)
        assert ok.exit_code == 0, ok.output
        assert '"protected": true' in ok.output
        no_key = CliRunner().invoke(
            main, ["lookup", "110", "--target", srv.address], env={"NUMREP_DATA_DIR": str(settings.data_dir)}
        )
        assert no_key.exit_code != 0 and "UNAUTHENTICATED" in no_key.output
    finally:
        srv.stop(grace=0)


def test_the_cassandra_store_authenticates_with_the_configured_user(tmp_path: Path) -> None:
    from cassandra.auth import PlainTextAuthProvider

    from numrep.store.cassandra import CassandraStore

    s = load_settings(environ={**SECRETS, "NUMREP_DATA_DIR": str(tmp_path), "NUMREP_STORE": "cassandra"})
    cluster = CassandraStore(s)._cluster_for()  # built, not connected
    provider = cluster.auth_provider
    assert isinstance(provider, PlainTextAuthProvider)
    assert (provider.username, provider.password) == ("numrep", "s3cret-cassandra-pw")
    plain = load_settings(environ={"NUMREP_DATA_DIR": str(tmp_path), "NUMREP_STORE": "cassandra"})
    assert CassandraStore(plain)._cluster_for().auth_provider is None


def test_the_broker_password_goes_into_the_broker_url(tmp_path: Path) -> None:
    from numrep.errors import ConfigError

    s = load_settings(
        environ={
            "NUMREP_DATA_DIR": str(tmp_path),
            "NUMREP_BROKER_URL": "redis://redis:6379/0",
            "NUMREP_BROKER_PASSWORD": "p@ss/word",
        }
    )
    assert s.celery_broker_url == "redis://:p%40ss%2Fword@redis:6379/0"
    assert s.shown("broker_url") == "redis://redis:6379/0" and s.shown("broker_password") == "********"
    with pytest.raises(ConfigError, match="NUMREP_BROKER_PASSWORD needs a NUMREP_BROKER_URL"):
        load_settings(environ={"NUMREP_BROKER_URL": "redis://:other@redis:6379/0", "NUMREP_BROKER_PASSWORD": "x"})
    with pytest.raises(ConfigError, match="NUMREP_BROKER_PASSWORD needs a NUMREP_BROKER_URL"):
        load_settings(environ={"NUMREP_BROKER_PASSWORD": "x"})
