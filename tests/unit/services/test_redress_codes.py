"""Reason codes and the redress reference over gRPC, in the rules feed, and in the SDK's local answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from numrep import pipeline
from numrep.lookup import VerdictSource
from numrep.models import Action, Channel, ReasonCode
from numrep.sdk import LocalListClient
from numrep.sdk.client import Client
from numrep.v1 import admin_pb2, common_pb2, rules_pb2
from services.server import Server
from tests.unit.services.helpers import SPAM, block


def rescore(server: Server) -> None:
    pipeline.rescore_dirty(server.store, server.settings)
    server.engine.refresh()


def test_every_label_and_block_carries_a_code_and_where_to_dispute_it(client: Client, server: Server) -> None:
    # given: one number blocked on corroborated complaints, one labelled by eight unverified ids, one clean
    block(client, server)
    for i in range(8):
        client.report("13800138000", f"x{i}", "fraud")
    rescore(server)
    blocked, labelled, clean = client.lookup(SPAM), client.lookup("13800138000"), client.lookup("13800000001")
    # then: each flagged answer names its strongest evidence and the dispute contact; ALLOW says nothing
    assert (blocked.action, blocked.reason_code) == (
        common_pb2.ACTION_BLOCK,
        common_pb2.REASON_CODE_CORROBORATED_COMPLAINTS,
    )
    assert (labelled.action, labelled.reason_code) == (common_pb2.ACTION_LABEL, common_pb2.REASON_CODE_COMPLAINTS)
    for r in (blocked, labelled):
        assert r.redress.url == server.settings.redress_url and r.redress.url.startswith("https://")
    assert clean.reason_code == common_pb2.REASON_CODE_UNSPECIFIED and not clean.HasField("redress")
    # and the rules feed carries the codes too
    feed = {r.subject: r for r in client.get_rules(0).added}
    assert feed["tel:+8617012345678"].reason_code == common_pb2.REASON_CODE_CORROBORATED_COMPLAINTS
    assert feed["tel:+8613800138000"].reason_code == common_pb2.REASON_CODE_COMPLAINTS


def test_confirmed_fraud_names_its_case(client: Client, server: Server) -> None:
    req = admin_pb2.ConfirmFraudRequest(
        subject="13900001111", case_id="police-2026-117", actor="analyst 7", reason="impersonating a bank"
    )
    req.expires_at.FromDatetime(datetime.now(UTC) + timedelta(days=30))
    client.admin.ConfirmFraud(req)
    rescore(server)
    r = client.lookup("13900001111")
    assert (r.action, r.reason_code, r.redress.case_id) == (
        common_pb2.ACTION_BLOCK,
        common_pb2.REASON_CODE_CONFIRMED_FRAUD,
        "police-2026-117",
    )


def test_the_sdk_answers_with_the_code_from_the_service_and_from_its_local_rules(
    client: Client, server: Server
) -> None:
    block(client, server)
    key = client.rules.GetSigningKey(rules_pb2.GetSigningKeyRequest(), timeout=5).public_key
    local = LocalListClient(server.address, public_key=key, deadline=1.0)
    try:
        local.sync()
        hit = local.lookup(SPAM)
        assert (hit.source, hit.code) == (VerdictSource.SERVICE, ReasonCode.CORROBORATED_COMPLAINTS)
        local._confirmed.clear()
        server.stop(grace=0)  # the service is gone: the verified local rules answer, with the rule's code
        down = local.lookup(SPAM, Channel.VOICE)
        assert (down.action, down.source, down.code) == (
            Action.BLOCK,
            VerdictSource.LOCAL_RULES,
            ReasonCode.CORROBORATED_COMPLAINTS,
        )
    finally:
        local.close()


def test_an_analysts_block_is_a_manual_rule_naming_its_case(client: Client, server: Server) -> None:
    for i in range(25):
        client.report("13812345678", f"bot-{i}", "fraud")
    rescore(server)
    held = client.lookup("13812345678")
    assert (held.action, held.reason_code, held.redress.case_id) == (
        common_pb2.ACTION_LABEL,
        common_pb2.REASON_CODE_COMPLAINTS,
        "report_bombing:tel:+8613812345678",
    )
    client.admin.DecideReviewCase(
        admin_pb2.DecideReviewCaseRequest(
            case_id="report_bombing:tel:+8613812345678", decision="block", actor="analyst 7", reason="a real scam"
        )
    )
    rescore(server)
    blocked = client.lookup("13812345678")
    assert (blocked.action, blocked.reason_code) == (common_pb2.ACTION_BLOCK, common_pb2.REASON_CODE_MANUAL_RULE)
    assert blocked.redress.case_id.startswith("report_bombing:tel:+8613812345678@")  # the decided case's id
