"""The Cassandra store's evidence tables (see ``numrep.store.evidence``): being written."""

from __future__ import annotations

from numrep.store.evidence import EvidenceStore


class CassandraEvidence(EvidenceStore):
    pass
