"""CallRecordService: operators' call and SMS records, raw or hourly, into the evidence store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.message import Message

from numrep import convert
from numrep.auth import Authenticator, api_key_in, peer_label
from numrep.config import Settings
from numrep.errors import ValidationError
from numrep.evidence.records import AggregateInput, RecordInput, validate_aggregate, validate_record
from numrep.models import CallAggregate, CallRecord, Channel
from numrep.store.base import Store
from numrep.v1 import callrecords_pb2 as pb
from numrep.v1 import callrecords_pb2_grpc as pb_grpc


def _unknown_fields(m: Message) -> str:
    """A per-item error for fields this server does not know (a newer client, or a typo'd schema)."""
    from google.protobuf.unknown_fields import UnknownFieldSet

    numbers = sorted({f.field_number for f in UnknownFieldSet(m)})
    return f"unknown field(s) {', '.join(map(str, numbers))}" if numbers else ""


def _has_unknown_fields(request: pb.SubmitCallRecordsRequest) -> bool:
    """Whether any record carries fields this server does not know: one C-side pass over the whole batch
    (looking for them record by record costs as much as validating the record)."""
    clean = pb.SubmitCallRecordsRequest()
    clean.CopyFrom(request)
    clean.DiscardUnknownFields()
    return clean.ByteSize() != request.ByteSize()


def _channel(value: int) -> Channel | None:
    return convert.enum_or_none(convert.CHANNEL_FROM_PB, value, "channel")


class CallRecordServicer(pb_grpc.CallRecordServiceServicer):
    def __init__(
        self,
        store: Store,
        settings: Settings,
        on_new: Callable[[], None] = lambda: None,
        auth: Authenticator | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.on_new = on_new
        self.auth = auth or Authenticator(store, settings)
        self.lateness = timedelta(days=settings.record_lateness_days)

    def _operator(self, context: grpc.ServicerContext) -> str:
        """The sending operator: its API key's, else the peer (records are evidence of whoever sends them)."""
        operator = self.auth.operator_of(api_key_in(context.invocation_metadata()))
        if operator is not None:
            return operator
        return peer_label(context.peer())

    def _check_size(self, n: int, what: str) -> None:
        if n > self.settings.max_batch:
            raise ValidationError(f"{what}: at most {self.settings.max_batch} per call, got {n}")

    def _records(self, request: pb.SubmitCallRecordsRequest, operator: str) -> pb.SubmitCallRecordsResponse:
        self._check_size(len(request.records), "records")
        now = datetime.now(UTC)
        key, region, lateness = self.settings.subscriber_key, self.settings.region, self.lateness
        check_unknown = _has_unknown_fields(request)
        errors: dict[int, str] = {}
        duplicates: set[int] = set()
        valid: list[CallRecord] = []
        where: list[int] = []  # each valid record's index in the request
        seen: set[str] = set()
        callers: dict[str, str] = {}
        prefixes: dict[str, int] = {}
        for i, m in enumerate(request.records):
            try:
                if check_unknown and (unknown := _unknown_fields(m)):
                    raise ValidationError(f"invalid record: {unknown}")
                rec = validate_record(
                    RecordInput(
                        m.record_id,
                        m.caller,
                        m.callee,
                        _channel(m.channel) if m.channel else None,
                        convert.from_timestamp(m.start_time, "start_time") if m.HasField("start_time") else None,
                        m.ring_ms,
                        m.talk_seconds,
                        m.international,
                    ),
                    key,
                    region,
                    operator,
                    now,
                    lateness,
                    callers,
                    prefixes,
                )
            except ValidationError as exc:
                errors[i] = exc.message
                continue
            if rec.record_id in seen:  # the same id twice in one call counts once
                duplicates.add(i)
                continue
            seen.add(rec.record_id)
            valid.append(rec)
            where.append(i)
        fresh = self.store.add_call_records(valid) if valid else []
        duplicates.update(i for i, new in zip(where, fresh) if not new)
        accepted = len(request.records) - len(errors) - len(duplicates)
        if accepted:
            self.on_new()
        if request.errors_only:
            shown: Iterable[int] = sorted(errors.keys() | duplicates)
        else:
            shown = range(len(request.records))
        records = request.records
        results = [
            pb.CallRecordResult(
                record_id=records[i].record_id,
                index=i,
                accepted=i not in errors,
                duplicate=i in duplicates,
                error=errors.get(i, ""),
            )
            for i in shown
        ]
        return pb.SubmitCallRecordsResponse(
            results=results, accepted=accepted, rejected=len(errors), duplicates=len(duplicates)
        )

    def SubmitCallRecords(
        self, request: pb.SubmitCallRecordsRequest, context: grpc.ServicerContext
    ) -> pb.SubmitCallRecordsResponse:
        return self._records(request, self._operator(context))

    def StreamCallRecords(
        self, request_iterator: Iterator[pb.SubmitCallRecordsRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.SubmitCallRecordsResponse]:
        operator = self._operator(context)
        for request in request_iterator:
            yield self._records(request, operator)

    def SubmitCallAggregates(
        self, request: pb.SubmitCallAggregatesRequest, context: grpc.ServicerContext
    ) -> pb.SubmitCallAggregatesResponse:
        self._check_size(len(request.aggregates), "aggregates")
        operator = self._operator(context)
        now = datetime.now(UTC)
        results: list[pb.CallAggregateResult] = []
        accepted: dict[tuple[str, Channel, datetime], CallAggregate] = {}
        for m in request.aggregates:
            try:
                unknown = _unknown_fields(m)
                if unknown:
                    raise ValidationError(f"invalid aggregate: {unknown}")
                agg = validate_aggregate(
                    AggregateInput(
                        caller=m.caller,
                        channel=_channel(m.channel),
                        hour=convert.from_timestamp(m.hour, "hour") if m.HasField("hour") else None,
                        calls=m.calls,
                        answered=m.answered,
                        short_calls=m.short_calls,
                        ring_once_calls=m.ring_once_calls,
                        international_calls=m.international_calls,
                        callee_sketch=m.callee_sketch,
                        callee_prefix_sketch=m.callee_prefix_sketch,
                    ),
                    self.settings.region,
                    operator,
                    now,
                    self.lateness,
                )
            except ValidationError as exc:
                results.append(pb.CallAggregateResult(caller=m.caller, accepted=False, error=exc.message))
                continue
            accepted[(agg.caller, agg.channel, agg.hour)] = agg  # a repeat in one call: the last one stands
            results.append(pb.CallAggregateResult(caller=agg.caller, accepted=True))
        if accepted:
            self.store.put_call_aggregates(list(accepted.values()))
            self.on_new()
        return pb.SubmitCallAggregatesResponse(results=results)
