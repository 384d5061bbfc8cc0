# One image for every numrep process: gRPC services (`numrep serve`), Celery
# workers and beat (`celery -A workers.celery_app ...`), migrations (`numrep migrate`).
# The server listens on every interface here, so it refuses to start without
# auth: run it with NUMREP_AUTH_REQUIRED=true (and NUMREP_TLS_CERT_FILE/KEY_FILE),
# or, for a throwaway local container only, `serve --insecure-allow-public`.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY numrep ./numrep
COPY services ./services
COPY workers ./workers
RUN python -m venv /opt/numrep \
 && /opt/numrep/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/numrep/bin/pip install --no-cache-dir -c constraints.txt .

FROM python:3.11-slim
RUN groupadd --system --gid 10001 numrep \
 && useradd --system --uid 10001 --gid numrep --home-dir /var/lib/numrep --no-create-home numrep \
 && mkdir -p /var/lib/numrep && chown numrep:numrep /var/lib/numrep
COPY --from=build /opt/numrep /opt/numrep
ENV PATH=/opt/numrep/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NUMREP_DATA_DIR=/var/lib/numrep \
    NUMREP_GRPC_HOST=0.0.0.0
USER 10001:10001
EXPOSE 50051
ENTRYPOINT ["numrep"]
CMD ["serve"]
