"""How an operator's call switch uses numrep in local-list mode.

    python examples/switch_integration.py --target 127.0.0.1:50051 17012345678 13800138000

The switch pins the platform's Ed25519 key (here fetched once for the demo;
in production it is distributed out of band), keeps the filter and the signed
rules in sync in the background, and for each call asks the local list first.
Only local hits cost a round trip, bounded by a deadline; if the platform is
unreachable the verified local rules decide. A protected or allowlisted
number is never blocked. If the feed goes stale (no fresh signed update within
an hour), the switch keeps deciding from the last verified rules and raises
an alarm.
"""

from __future__ import annotations

import argparse

import grpc

from numrep.errors import InvalidSubject
from numrep.models import Action, Channel, ReasonCode
from numrep.sdk import LocalListClient
from numrep.v1 import rules_pb2, rules_pb2_grpc

# The README's mapping from reason codes to SIP rejections (RFC 3261 603, RFC 8197 607, RFC 8688 608).
SIP_REJECTION = {
    ReasonCode.CORROBORATED_COMPLAINTS: "607 Unwanted",
    ReasonCode.BEHAVIOUR: "608 Rejected",
    ReasonCode.HONEYPOT: "608 Rejected",
    ReasonCode.PORT_BLACKLIST: "608 Rejected",
    ReasonCode.CONFIRMED_FRAUD: "608 Rejected",
    ReasonCode.RANGE_RULE: "603 Decline",
    ReasonCode.MANUAL_RULE: "603 Decline",
    ReasonCode.COMPLAINTS: "603 Decline",
}


def on_incoming_call(client: LocalListClient, caller: str) -> str:
    """What a switch does with one call: connect, connect with a warning label, or reject."""
    try:
        verdict = client.lookup(caller, Channel.VOICE)
    except InvalidSubject as exc:  # a spoofed or malformed caller id: let it through, but flag it
        return f"CONNECT (unverifiable caller id: {exc.reason})"
    if verdict.action is Action.BLOCK:
        sip = SIP_REJECTION.get(verdict.code, "603 Decline") if verdict.code else "603 Decline"
        code = verdict.code.value if verdict.code else "unspecified"
        case = f"; case {verdict.case_id}" if verdict.case_id else ""
        return (
            f'REJECT {sip}, Reason: SIP;cause={sip[:3]};text="numrep:{code}"{case} '
            f"({'; '.join(verdict.reasons) or verdict.source})"
        )
    if verdict.action is Action.LABEL:
        return f"CONNECT WITH LABEL ({'; '.join(verdict.reasons) or verdict.source})"
    return f"CONNECT ({verdict.source})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="127.0.0.1:50051")
    ap.add_argument("callers", nargs="+")
    ns = ap.parse_args()
    with grpc.insecure_channel(ns.target) as ch:  # demo only: pin the key out of band in production
        key = rules_pb2_grpc.RulesServiceStub(ch).GetSigningKey(rules_pb2.GetSigningKeyRequest(), timeout=5).public_key
    client = LocalListClient(ns.target, public_key=key, deadline=0.2)
    client.start(interval=1.0)
    try:
        if client.stale:  # the operator's policy: here, answer on and alarm
            print("ALARM: the rules feed is stale; deciding from the last verified rules")
        for caller in ns.callers:
            print(f"{caller}: {on_incoming_call(client, caller)}")
        print(f"({client.service_calls} of {len(ns.callers)} calls needed the platform)")
    finally:
        client.close()


if __name__ == "__main__":
    main()
