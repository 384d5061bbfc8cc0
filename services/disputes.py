"""DisputeService: owners file and follow disputes; analysts acknowledge, review and decide (numrep.redress)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import grpc

from numrep import convert
from numrep.auth import Authenticator, api_key_in
from numrep.cache import MISSING, TTLCache
from numrep.config import Settings
from numrep.errors import Forbidden, RateLimited, ValidationError
from numrep.models import ApiKey, Dispute, DisputeState, Scope
from numrep.numbers import normalize
from numrep.redress import disputes, proof
from numrep.redress.sla import DisputeSLA
from numrep.regulator.registry import Registry
from numrep.store.base import Store
from numrep.v1 import disputes_pb2 as pb
from numrep.v1 import disputes_pb2_grpc as pb_grpc

CODE_INTERVAL_SECONDS = 60.0
LIST_DEFAULT, LIST_MAX = 100, 1000
STATE_TO_PB = {s: pb.DisputeState.Value(f"DISPUTE_STATE_{s.name}") for s in DisputeState}


def dispute_pb(d: Dispute, sla: DisputeSLA) -> pb.Dispute:
    return pb.Dispute(
        dispute_id=d.dispute_id,
        subject=d.subject,
        state=STATE_TO_PB[d.state],
        statement=d.statement,
        proof=d.proof.value,
        holder=d.holder,
        filed_at=convert.timestamp(d.filed_at),
        transitions=[
            pb.DisputeTransition(state=STATE_TO_PB[t.state], at=convert.timestamp(t.at), actor=t.actor, note=t.note)
            for t in d.transitions
        ],
        reason=d.reason if d.state in (DisputeState.UPHELD, DisputeState.REJECTED) else "",
        authoritative=list(d.authoritative),
        ack_due=convert.timestamp(sla.ack_due(d)),
        decide_due=convert.timestamp(sla.decide_due(d)),
    )


class DisputeServicer(pb_grpc.DisputeServiceServicer):
    """Open at the auth interceptor (owners have no keys): each method checks its caller itself."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        auth: Authenticator,
        on_change: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.auth = auth
        self.on_change = on_change  # nudges the worker: a decision is rescored at once
        self.sla = DisputeSLA.from_settings(settings)
        self.attempts = proof.CodeAttempts()
        self._sent: TTLCache[str, bool] = TTLCache(CODE_INTERVAL_SECONDS)
        self._clock = clock or (lambda: datetime.now(UTC))

    def _key(self, context: grpc.ServicerContext) -> ApiKey | None:
        return self.auth.key_of(api_key_in(context.invocation_metadata()))

    def _analyst(self, context: grpc.ServicerContext) -> None:
        """Analysts' calls need the admin scope when the platform requires keys."""
        if not self.settings.auth_required:
            return
        key = self._key(context)
        if key is None or Scope.ADMIN not in key.scopes:
            raise Forbidden("analysts' dispute calls need a key with the 'admin' scope")

    def _caller(self, context: grpc.ServicerContext, owner_token: str) -> disputes.Caller:
        key = self._key(context)
        analyst = key is not None and Scope.ADMIN in key.scopes
        return disputes.Caller(owner_token=owner_token, key=key, analyst=analyst)

    # ---- owners ------------------------------------------------------------------
    def RequestCode(self, request: pb.RequestCodeRequest, context: grpc.ServicerContext) -> pb.RequestCodeResponse:
        subject = normalize(request.subject, self.settings.region)
        if self._sent.get(subject) is not MISSING:
            raise RateLimited(
                f"a code for {subject} was sent less than {CODE_INTERVAL_SECONDS:g} s ago; use it, or wait",
                retry_after=CODE_INTERVAL_SECONDS,
            )
        challenge = proof.issue_code(
            self.settings, subject, Registry.load(self.store).holder_of(subject), self._clock()
        )
        self._sent.put(subject, True)
        return pb.RequestCodeResponse(
            challenge_id=challenge.challenge_id,
            expires_at=convert.timestamp(challenge.expires_at),
            holder=challenge.holder,
        )

    def FileDispute(self, request: pb.FileDisputeRequest, context: grpc.ServicerContext) -> pb.FileDisputeResponse:
        d, token = disputes.file(
            self.store,
            self.settings,
            request.subject,
            request.statement,
            self._clock(),
            key=self._key(context),
            challenge_id=request.challenge_id.strip(),
            code=request.code,
            attempts=self.attempts,
        )
        self.on_change()
        return pb.FileDisputeResponse(dispute=dispute_pb(d, self.sla), owner_token=token)

    def GetDispute(self, request: pb.GetDisputeRequest, context: grpc.ServicerContext) -> pb.Dispute:
        d = disputes.get(self.store, self.settings, request.dispute_id, self._caller(context, request.owner_token))
        return dispute_pb(d, self.sla)

    def WithdrawDispute(self, request: pb.WithdrawDisputeRequest, context: grpc.ServicerContext) -> pb.Dispute:
        d = disputes.withdraw(
            self.store,
            self.settings,
            request.dispute_id,
            self._caller(context, request.owner_token),
            self._clock(),
            request.note,
        )
        self.on_change()
        return dispute_pb(d, self.sla)

    # ---- analysts ----------------------------------------------------------------
    def ListDisputes(self, request: pb.ListDisputesRequest, context: grpc.ServicerContext) -> pb.ListDisputesResponse:
        self._analyst(context)
        limit = request.limit or LIST_DEFAULT
        if limit > LIST_MAX:
            raise ValidationError(f"limit: at most {LIST_MAX}, got {limit}")
        if request.subject:
            subject = normalize(request.subject, self.settings.region)
            found = self.store.disputes_for_subjects([subject]).get(subject, [])[:limit]
        else:
            found = disputes.queue(self.store, self.settings, limit)
        return pb.ListDisputesResponse(disputes=[dispute_pb(d, self.sla) for d in found])

    def AcknowledgeDispute(self, request: pb.DisputeStepRequest, context: grpc.ServicerContext) -> pb.Dispute:
        self._analyst(context)
        d = disputes.acknowledge(
            self.store, self.settings, request.dispute_id, request.actor, self._clock(), request.note
        )
        return dispute_pb(d, self.sla)

    def StartReview(self, request: pb.DisputeStepRequest, context: grpc.ServicerContext) -> pb.Dispute:
        self._analyst(context)
        d = disputes.start_review(
            self.store, self.settings, request.dispute_id, request.actor, self._clock(), request.note
        )
        self.on_change()
        return dispute_pb(d, self.sla)

    def DecideDispute(self, request: pb.DecideDisputeRequest, context: grpc.ServicerContext) -> pb.Dispute:
        self._analyst(context)
        if request.decision not in (pb.DISPUTE_DECISION_UPHOLD, pb.DISPUTE_DECISION_REJECT):
            raise ValidationError("decision: UPHOLD or REJECT")
        d = disputes.decide(
            self.store,
            self.settings,
            request.dispute_id,
            request.decision == pb.DISPUTE_DECISION_UPHOLD,
            request.actor,
            request.reason,
            self._clock(),
        )
        self.on_change()
        return dispute_pb(d, self.sla)
