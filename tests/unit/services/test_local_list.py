"""Local-list mode: most lookups never leave the switch; hits are confirmed; outages fail safe."""

from __future__ import annotations

import dataclasses

import pytest

from numrep.errors import InvalidSubject
from numrep.lookup import VerdictSource
from numrep.models import Action, Channel
from numrep.sdk import LocalListClient
from numrep.sdk.client import Client
from numrep.v1 import rules_pb2
from services.server import Server
from tests.unit.services.helpers import block


def test_local_list_answers_misses_locally_and_confirms_hits(client: Client, server: Server) -> None:
    block(client, server)  # 17012345678 BLOCK
    key = client.rules.GetSigningKey(rules_pb2.GetSigningKeyRequest(), timeout=5).public_key
    local = LocalListClient(server.address, public_key=key, deadline=1.0)
    try:
        assert local.sync() == 1
        for i in range(200):
            v = local.lookup(f"138{i:08d}")
            assert v.action is Action.ALLOW and v.source is VerdictSource.LOCAL_MISS
        assert local.service_calls == 0  # no call left the switch for clean numbers
        assert local.lookup("110").source is VerdictSource.PROTECTED and local.service_calls == 0
        with pytest.raises(InvalidSubject):
            local.lookup("1380013800012345")
        hit = local.lookup("+86 170 1234 5678")
        assert (hit.action, hit.source, local.service_calls) == (Action.BLOCK, VerdictSource.SERVICE, 1)
        assert hit.reasons[0].startswith("10 corroborated reporters")
        again = local.lookup("17012345678")  # the confirmed answer is cached while the rules version holds
        assert (again.action, again.source, again.reasons, local.service_calls) == (
            Action.BLOCK,
            VerdictSource.SERVICE_CACHED,
            hit.reasons,
            1,
        )
        local.mirror._held = dataclasses.replace(local.mirror.index, version=local.mirror.version + 1)  # a new version
        assert local.lookup("17012345678").source is VerdictSource.SERVICE and local.service_calls == 2

        local._confirmed.clear()  # as when the cached confirmation has expired
        server.stop(grace=0)  # the service is gone: the verified local rules decide
        down = local.lookup("17012345678", Channel.VOICE)
        assert (down.action, down.source) == (Action.BLOCK, VerdictSource.LOCAL_RULES)
        assert local.lookup("13800000001").source is VerdictSource.LOCAL_MISS
    finally:
        local.close()
