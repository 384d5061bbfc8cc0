"""Build, start and gracefully stop the numrep gRPC server.

``Server`` wires the servicers, the error interceptor, health checking and
reflection around one LookupEngine; ``serve()`` runs it until SIGTERM/SIGINT.
Graceful shutdown: health turns NOT_SERVING first; for ``grpc_drain_seconds``
new calls are still served while load balancers and clients watching health
move away; then new calls are refused with UNAVAILABLE (which clients retry
elsewhere) for a moment, so none is left queued to be cancelled, and
``stop(grace)`` lets in-flight calls — streams included — finish.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from numrep.auth import Authenticator
from numrep.config import Settings
from numrep.errors import ConfigError
from numrep.lookup import LookupEngine
from numrep.metrics import multiprocess_dir, serve_metrics
from numrep.signing import Signer
from numrep.store import Store, open_store
from numrep.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    callrecords_pb2,
    callrecords_pb2_grpc,
    disputes_pb2,
    disputes_pb2_grpc,
    report_pb2,
    report_pb2_grpc,
    reputation_pb2,
    reputation_pb2_grpc,
    rules_pb2,
    rules_pb2_grpc,
)
from services.admin import AdminServicer
from services.callrecords import CallRecordServicer
from services.disputes import DisputeServicer
from services.interceptors.auth import AuthInterceptor
from services.interceptors.decode import DecodeInterceptor
from services.interceptors.errors import ErrorInterceptor
from services.interceptors.metrics import MetricsInterceptor
from services.interceptors.shutdown import ShutdownInterceptor
from services.interceptors.streams import StreamLimits
from services.nudge import Nudger
from services.report import ReportServicer
from services.reputation import ReputationServicer
from services.rules import RulesServicer

log = logging.getLogger(__name__)
REFUSE_SECONDS = 0.5

SERVICE_NAMES = (
    reputation_pb2.DESCRIPTOR.services_by_name["ReputationService"].full_name,
    report_pb2.DESCRIPTOR.services_by_name["ReportService"].full_name,
    rules_pb2.DESCRIPTOR.services_by_name["RulesService"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
    callrecords_pb2.DESCRIPTOR.services_by_name["CallRecordService"].full_name,
    disputes_pb2.DESCRIPTOR.services_by_name["DisputeService"].full_name,
)


def is_loopback(host: str) -> bool:
    """True for an address only this machine reaches (127.0.0.0/8, ::1, localhost, a unix socket)."""
    host = host.strip("[]")
    if host == "localhost" or host.startswith("unix:"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def check_exposure(settings: Settings) -> None:
    """Refuse to listen beyond this machine without auth, unless told to; warn about what stays exposed.

    Without auth anyone who reaches the port may file reports and administer
    the platform; without TLS API keys travel in clear.
    """
    host = settings.grpc_host
    if is_loopback(host):
        return
    if not settings.auth_required:
        if not settings.insecure_allow_public:
            raise ConfigError(
                f"NUMREP_GRPC_HOST={host}: refusing to listen beyond this machine without auth; set "
                "NUMREP_AUTH_REQUIRED=true (with TLS: NUMREP_TLS_CERT_FILE, NUMREP_TLS_KEY_FILE), or accept the "
                "risk with --insecure-allow-public (NUMREP_INSECURE_ALLOW_PUBLIC=true)"
            )
        log.warning(
            "listening beyond this machine WITHOUT AUTH (insecure_allow_public): anyone who reaches the "
            "port may report and administer",
            extra={"address": settings.grpc_address},
        )
    if settings.tls_cert_file is None:
        log.warning(
            "listening beyond this machine in PLAINTEXT: API keys and answers travel in clear; set "
            "NUMREP_TLS_CERT_FILE and NUMREP_TLS_KEY_FILE",
            extra={"address": settings.grpc_address},
        )


REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"


def reflection_v1(names: tuple[str, ...]) -> grpc.GenericRpcHandler:
    """Server reflection under ``grpc.reflection.v1`` too (grpcurl and current tools ask for it first).

    grpcio-reflection ships only v1alpha; the v1 protocol is the same messages,
    field for field, under a new package, so v1alpha's servicer answers it.
    """
    from grpc_reflection.v1alpha import reflection_pb2

    servicer = reflection.ReflectionServicer(names)
    return grpc.method_handlers_generic_handler(
        REFLECTION_V1,
        {
            "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                servicer.ServerReflectionInfo,
                request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
                response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
            ),
        },
    )


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS (and mutual TLS when a client CA is configured) from the PEM files in settings; None for plaintext."""
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        return None
    pair = (settings.tls_key_file.read_bytes(), settings.tls_cert_file.read_bytes())
    client_ca = settings.tls_client_ca_file.read_bytes() if settings.tls_client_ca_file else None
    return grpc.ssl_server_credentials([pair], root_certificates=client_ca, require_client_auth=client_ca is not None)


class Server:
    """One serving process: gRPC server, lookup engine, refresher, nudger."""

    def __init__(self, settings: Settings, store: Store | None = None, nudge: Callable[[], None] | None = None) -> None:
        self.settings = settings
        check_exposure(settings)
        self.store = store or open_store(settings)
        self.engine = LookupEngine(self.store, settings)
        if nudge is None:
            from workers.conf import sender

            nudge = sender(settings)
        self.nudger = Nudger(nudge)
        self.stopping = threading.Event()
        opts = [
            ("grpc.max_receive_message_length", settings.grpc_max_message_bytes),
            ("grpc.max_send_message_length", settings.grpc_max_message_bytes),
            # Only several processes of one `numrep serve --processes N` share a port (the kernel spreads
            # connections); otherwise a port that is taken fails loudly instead of silently sharing.
            ("grpc.so_reuseport", 1 if settings.grpc_processes != 1 else 0),
        ]
        self.refusing = threading.Event()
        # metrics outermost (it sees the final status), then shutdown refusal, auth, stream limits (after auth:
        # a refused caller takes no stream slot), error translation; DecodeInterceptor inside ErrorInterceptor:
        # an undecodable request raises a ValidationError there
        self.streams = StreamLimits(
            settings.streams_limit, settings.grpc_stream_idle_seconds, settings.grpc_stream_max_items
        )
        interceptors: list[grpc.ServerInterceptor] = [
            MetricsInterceptor(),
            ShutdownInterceptor(self.refusing),
            self.streams,
            ErrorInterceptor(),
            DecodeInterceptor(),
        ]
        auth = Authenticator(self.store, settings)  # one key cache for the interceptor and the servicers
        if settings.auth_required:
            interceptors.insert(2, AuthInterceptor(auth))
        self.grpc = grpc.server(
            futures.ThreadPoolExecutor(max_workers=settings.grpc_max_workers, thread_name_prefix="numrep-grpc"),
            interceptors=interceptors,
            options=opts,
            # load shedding: beyond this many in-flight calls gRPC answers RESOURCE_EXHAUSTED at once
            maximum_concurrent_rpcs=settings.grpc_max_concurrent_rpcs,
        )
        reputation_pb2_grpc.add_ReputationServiceServicer_to_server(
            ReputationServicer(self.engine, settings.max_batch), self.grpc
        )
        report_pb2_grpc.add_ReportServiceServicer_to_server(
            ReportServicer(self.store, settings, self.nudger.poke, auth=auth), self.grpc
        )
        callrecords_pb2_grpc.add_CallRecordServiceServicer_to_server(
            CallRecordServicer(self.store, settings, self.nudger.poke, auth=auth), self.grpc
        )
        self.signer = Signer.from_settings(settings)
        self.rules = RulesServicer(self.store, settings, self.signer, self.stopping)
        rules_pb2_grpc.add_RulesServiceServicer_to_server(self.rules, self.grpc)
        admin_pb2_grpc.add_AdminServiceServicer_to_server(
            AdminServicer(self.store, self.engine, self.signer.key_id, self.nudger.poke, auth=auth), self.grpc
        )
        disputes_pb2_grpc.add_DisputeServiceServicer_to_server(
            DisputeServicer(self.store, settings, auth, self.nudger.poke), self.grpc
        )
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        names = (*SERVICE_NAMES, reflection.SERVICE_NAME, REFLECTION_V1, health.SERVICE_NAME)
        reflection.enable_server_reflection(names, self.grpc)
        self.grpc.add_generic_rpc_handlers((reflection_v1(names),))
        credentials = server_credentials(settings)
        if credentials is None:
            self.port = self.grpc.add_insecure_port(settings.grpc_address)
        else:
            self.port = self.grpc.add_secure_port(settings.grpc_address, credentials)
        if self.port == 0:
            raise OSError(f"cannot listen on {settings.grpc_address}")
        # Health alone, plaintext, on threads of its own: for probes that cannot speak TLS, never starved.
        self.health_grpc: grpc.Server | None = None
        self.health_port = 0
        if settings.grpc_health_port is not None:
            self.health_grpc = grpc.server(
                futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="numrep-health"),
                options=[("grpc.so_reuseport", 1 if settings.grpc_processes != 1 else 0)],
            )
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self.health_grpc)
            self.health_port = self.health_grpc.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_health_port}")
            if self.health_port == 0:
                raise OSError(f"cannot listen on {settings.grpc_host}:{settings.grpc_health_port} (health)")

    @property
    def address(self) -> str:
        return f"{self.settings.grpc_host}:{self.port}"

    def start(self) -> Server:
        self.engine.start()
        self.nudger.start()
        self.grpc.start()
        if self.health_grpc is not None:
            self.health_grpc.start()
        for name in ("", *SERVICE_NAMES):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "numrep serving",
            extra={"address": self.address, "store": self.store.name, "rules_version": self.engine.version},
        )
        return self

    def stop(self, grace: float | None = None, drain: float = 0.0) -> None:
        """Health NOT_SERVING; keep serving for ``drain`` seconds; then let in-flight calls finish within ``grace``."""
        self.health.enter_graceful_shutdown()
        if drain > 0:
            log.info("draining", extra={"seconds": drain})
            time.sleep(drain)
            self.refusing.set()  # answer what is queued with a retryable UNAVAILABLE, not a cancel at stop
            time.sleep(REFUSE_SECONDS)
        self.stopping.set()
        self.grpc.stop(self.settings.grpc_grace_seconds if grace is None else grace).wait()
        if self.health_grpc is not None:
            self.health_grpc.stop(0).wait()
        self.streams.close()
        self.engine.stop()
        self.nudger.stop()
        self.store.close()
        log.info("numrep stopped")

    def wait(self) -> None:
        self.grpc.wait_for_termination()


def serve(settings: Settings, on_started: Callable[[Server], None] | None = None, metrics_port: bool = True) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully.

    ``metrics_port``: serve /metrics here (False in the children of ``serve_processes``, whose parent serves it).
    """
    server = Server(settings)
    if metrics_port:
        serve_metrics(settings)
    try:
        server.start()
    except Exception:
        server.stop(grace=0)
        raise
    done = threading.Event()

    def _signal(signum: int, _frame: object) -> None:
        log.info("shutting down", extra={"signal": signal.Signals(signum).name})
        done.set()

    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    if on_started is not None:
        on_started(server)
    done.wait()
    server.stop(drain=settings.grpc_drain_seconds)


def _serve_child(settings: Settings) -> None:
    from numrep.logs import setup

    setup(settings.log_level, settings.log_format)
    serve(settings, metrics_port=False)


def serve_processes(settings: Settings) -> None:
    """Run ``grpc_processes`` serving processes on one port (SO_REUSEPORT), one per core when 0.

    gRPC Python serves from one process per interpreter lock; several
    processes, each with its own engine and store connections, use every core.
    SIGTERM/SIGINT to this parent stops every child gracefully.
    """
    import os

    n = settings.grpc_processes or os.cpu_count() or 1
    if n == 1:
        serve(settings)
        return
    check_exposure(settings)  # before any child starts
    if settings.grpc_port == 0:
        raise ConfigError("NUMREP_GRPC_PORT: several serving processes need a fixed port, not 0")
    with multiprocess_dir():  # the children record into files; this parent serves their sum on the metrics port
        _run_children(settings, n)


def _run_children(settings: Settings, n: int) -> None:
    import multiprocessing
    import os

    ctx = multiprocessing.get_context("spawn")
    children = [ctx.Process(target=_serve_child, args=(settings,), name=f"numrep-serve-{i}") for i in range(n)]
    for child in children:
        child.start()
    serve_metrics(settings)
    log.info("numrep serving", extra={"address": settings.grpc_address, "processes": n})
    done = threading.Event()

    def _signal(signum: int, _frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    while not done.wait(0.5):
        if any(not c.is_alive() for c in children):
            log.error("a serving process exited; stopping the others")
            break
    for child in children:
        if child.is_alive() and child.pid is not None:
            os.kill(child.pid, signal.SIGTERM)
    for child in children:
        child.join(settings.grpc_grace_seconds + 10)
    if any(c.exitcode not in (0, None) for c in children) and not done.is_set():
        raise SystemExit(1)
