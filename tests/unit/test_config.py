"""Configuration: defaults, environment, file, and precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from numrep.config import load_settings
from numrep.errors import ConfigError


def test_defaults_are_embedded(tmp_path: Path) -> None:
    s = load_settings(environ={"NUMREP_DATA_DIR": str(tmp_path)})
    assert s.store == "sqlite" and s.sqlite_file == tmp_path / "numrep.sqlite3"
    assert s.celery_broker_url == f"sqla+sqlite:///{tmp_path}/broker.sqlite3"
    assert s.region == "CN"


def test_environment_and_file(tmp_path: Path) -> None:
    f = tmp_path / "numrep.toml"
    f.write_text('block_threshold = 90\ncassandra_hosts = ["10.0.0.1"]\n')
    s = load_settings(
        environ={
            "NUMREP_CONFIG": str(f),
            "NUMREP_BLOCK_THRESHOLD": "85",
            "NUMREP_CASSANDRA_HOSTS": "127.0.0.1, 127.0.0.2",
            "NUMREP_SOURCE_WEIGHTS": "web=0.5",
        }
    )
    assert s.block_threshold == 85  # the environment wins over the file
    assert s.cassandra_hosts == ["127.0.0.1", "127.0.0.2"]
    assert s.source_weights == {"web": 0.5}


@pytest.mark.parametrize(
    "env, message",
    [
        ({"NUMREP_STOER": "sqlite"}, "NUMREP_STOER: unknown setting"),
        ({"NUMREP_STORE": "mongo"}, "NUMREP_STORE: Input should be 'sqlite' or 'cassandra'"),
        ({"NUMREP_GRPC_PORT": "http"}, "NUMREP_GRPC_PORT: Input should be a valid integer"),
        ({"NUMREP_REGION": "XX"}, "NUMREP_REGION: Value error, unknown region 'XX'"),
        ({"NUMREP_LABEL_THRESHOLD": "90"}, "label_threshold (90) must be below block_threshold (80)"),
        ({"NUMREP_SOURCE_WEIGHTS": "sms=1"}, "unknown sources ['sms']"),
        ({"NUMREP_SOURCE_WEIGHTS": "web"}, "NUMREP_SOURCE_WEIGHTS: expected key=value pairs"),
        ({"NUMREP_CONFIG": "/nonexistent.toml"}, "NUMREP_CONFIG: /nonexistent.toml does not exist"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(environ=env)
    assert message in exc.value.message


def test_unknown_file_keys_are_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("blok_threshold = 3\n")
    with pytest.raises(ConfigError, match="unknown setting\\(s\\) blok_threshold"):
        load_settings(environ={"NUMREP_CONFIG": str(f)})


def test_hash_key_file_is_created_once_and_kept_apart(tmp_path: Path) -> None:
    s = load_settings(environ={"NUMREP_DATA_DIR": str(tmp_path)})
    key = s.hmac_key
    assert load_settings(environ={"NUMREP_DATA_DIR": str(tmp_path)}).hmac_key == key
    key_file = tmp_path / "keys" / "reporter-hmac.key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    with pytest.raises(ConfigError, match="NUMREP_HASH_KEY_FILE"):
        _ = load_settings(environ={"NUMREP_HASH_KEY_FILE": str(tmp_path / "missing")}).hmac_key
