"""Storage backends behind one interface; ``open_store`` picks one from settings."""

from __future__ import annotations

from numrep.config import Settings
from numrep.errors import ConfigError
from numrep.store.base import Store

__all__ = ["Store", "open_store"]


def open_store(settings: Settings, migrate: bool | None = None) -> Store:
    """Open the configured backend.

    ``migrate`` creates or upgrades the schema; by default only the embedded
    SQLite store does so on open. A Cassandra schema is changed by
    ``numrep migrate`` alone (a Kubernetes Job), never by every pod at start.
    """
    if migrate is None:
        migrate = settings.store == "sqlite"
    store: Store
    if settings.store == "sqlite":
        from numrep.store.sqlite import SQLiteStore

        store = SQLiteStore(settings.sqlite_file, settings.rules_log_keep_versions)
    elif settings.store == "cassandra":
        from numrep.store.cassandra import CassandraStore

        store = CassandraStore(settings)
    else:
        raise ConfigError(f"NUMREP_STORE: unknown backend {settings.store!r}")
    if migrate:
        store.migrate()
    return store
