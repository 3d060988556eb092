# The Earful workers: one image, one process per container, the command picks
# the worker (`analyze`, `sink metrics`, `detect`, `conversation`, `sink notify`, `topics create`...).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY earful ./earful
COPY ingest ./ingest
COPY analyze ./analyze
COPY sinks ./sinks
RUN pip install . \
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
