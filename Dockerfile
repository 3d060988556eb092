# The Earful workers: one image, one process per container, the command picks
# the worker (`analyze`, `sink metrics`, `detect`, `conversation`, `sink notify`, `topics create`...).
#
# Two stages: wheels are built with a compiler, the runtime image has none.
# Some dependencies publish no wheel for every platform (pycld2 0.42 has none
# for Linux aarch64), so on arm64 pip compiles them from source, which the slim
# image cannot do.
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
# One installed package: earful/ holds links to the stage folders and to the
# bundled incident, so their targets come along.
COPY earful ./earful
COPY ingest ./ingest
COPY analyze ./analyze
COPY sinks ./sinks
COPY comms ./comms
COPY examples/acme-incident.jsonl ./examples/acme-incident.jsonl
# Earful and every dependency as wheels (downloaded where one exists, built where not).
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels earful \
    && rm -rf /wheels \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin earful
COPY examples ./examples
COPY deploy/config/earful.yaml /etc/earful/earful.yaml
COPY deploy/scripts/webhook_receiver.py ./deploy/scripts/webhook_receiver.py

# Inside a container the health and metrics servers listen on every interface.
ENV EARFUL_CONFIG=/etc/earful/earful.yaml \
    EARFUL_HEALTH_HOST=0.0.0.0 \
    EARFUL_HEALTH_PORT=8081 \
    EARFUL_METRICS_HOST=0.0.0.0

USER 10001
EXPOSE 8081 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=4 CMD ["earful", "check"]
# Exec form: the worker itself is PID 1's child under `init: true` and receives SIGTERM.
ENTRYPOINT ["earful"]
CMD ["--help"]
