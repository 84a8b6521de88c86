# syntax=docker/dockerfile:1
# One image for every WSE service and the portal; the build argument SERVICE picks which one it runs:
#   docker build --build-arg SERVICE=registration -t wse-registration .
# docker-compose.yml builds it once per service with `build.args.SERVICE`.
FROM python:3.11-slim

ARG SERVICE
ARG UV_VERSION=0.13.9

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install "uv==${UV_VERSION}" \
 && groupadd --system --gid 10001 wse \
 && useradd --system --uid 10001 --gid wse --no-create-home --home-dir /app --shell /usr/sbin/nologin wse

WORKDIR /app
COPY . .

# Only this service and what it depends on (wse-contracts, wse-service-runtime), exactly as
# uv.lock pins them, without the dev group; installed as wheels, not editable.
RUN --mount=type=cache,target=/root/.cache/uv \
    set -eu; \
    if [ -z "${SERVICE}" ] || { [ ! -d "services/${SERVICE}" ] && [ "${SERVICE}" != portal ]; }; then \
        echo "build with --build-arg SERVICE=<identity|registration|recognition|attestation|notification|portal> (got '${SERVICE}')" >&2; \
        exit 1; \
    fi; \
    uv sync --frozen --no-dev --no-editable --package "wse-${SERVICE}"; \
    /app/.venv/bin/python -c "import ${SERVICE}.__main__"

# ARG values are gone at run time: keep the choice in the image.
# HTTP_HOST is the shared fallback of <SERVICE>_HTTP_HOST (service_runtime.settings.load_settings):
# listen on every interface inside the container; docker-compose.yml sets the prefixed one too.
ENV WSE_SERVICE=${SERVICE} \
    HTTP_HOST=0.0.0.0 \
    PATH="/app/.venv/bin:${PATH}"

USER wse

# `exec`: python replaces the shell as PID 1, so `docker stop` SIGTERM reaches it (graceful shutdown).
CMD ["sh", "-c", "exec python -m \"$WSE_SERVICE\" serve"]
