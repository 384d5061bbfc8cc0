"""ReputationService: Lookup, BatchLookup, StreamLookup over the LookupEngine."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from numrep import convert
from numrep.errors import ValidationError
from numrep.lookup import LookupEngine
from numrep.models import Channel
from numrep.v1 import reputation_pb2 as pb
from numrep.v1 import reputation_pb2_grpc as pb_grpc

_INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT.value[0]


class ReputationServicer(pb_grpc.ReputationServiceServicer):
    def __init__(self, engine: LookupEngine, max_batch: int) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.redress = convert.redress_of(engine.settings.redress_url, engine.settings.redress_hotline)

    def _channel(self, req: pb.LookupRequest) -> Channel | None:
        return convert.enum_or_none(convert.CHANNEL_FROM_PB, req.channel, "channel")

    def Lookup(self, request: pb.LookupRequest, context: grpc.ServicerContext) -> pb.LookupResponse:
        return convert.verdict(
            self.engine.lookup(request.subject, self._channel(request)), request.request_id, self.redress
        )

    def _item(self, req: pb.LookupRequest) -> pb.LookupResponse:
        try:
            return convert.verdict(self.engine.lookup(req.subject, self._channel(req)), req.request_id, self.redress)
        except ValidationError as exc:
            return pb.LookupResponse(
                request_id=req.request_id, error=pb.ItemError(code=_INVALID_ARGUMENT, message=exc.message)
            )

    def BatchLookup(self, request: pb.BatchLookupRequest, context: grpc.ServicerContext) -> pb.BatchLookupResponse:
        if len(request.requests) > self.max_batch:
            raise ValidationError(f"requests: at most {self.max_batch} per batch, got {len(request.requests)}")
        return pb.BatchLookupResponse(results=[self._item(r) for r in request.requests])

    def StreamLookup(
        self, request_iterator: Iterator[pb.LookupRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.LookupResponse]:
        for req in request_iterator:
            yield self._item(req)
