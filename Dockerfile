# syntax=docker/dockerfile:1
# One image for the three services and the `nof` command line. The command picks the process:
#   nof-ingest | nof-scoring | nof-publisher | nof ... | python -m shared.kafka_admin declare
# Dependencies are installed with requirements.lock as constraints, so the image runs the exact
# versions the tests ran. No secrets are baked in: production keys come from the environment
# (docker-compose.yml and deploy/k8s/ say which).

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:20-slim

# The dashboard's front-end assets (the NHS design system's styles, the charts), from package-lock.json.
FROM ${NODE_IMAGE} AS dashboard
WORKDIR /src/services/publisher/frontend
COPY services/publisher/frontend/package.json services/publisher/frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY services/publisher/frontend/build.mjs ./
COPY services/publisher/frontend/src ./src
RUN node build.mjs

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# A compiler only for dependencies that ship no wheel for this platform; it stays in this stage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, in their own layer: editing the code does not re-install them.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/dependencies.txt \
 && pip install -c requirements.lock -r /tmp/dependencies.txt

COPY shared ./shared
COPY services ./services
COPY --from=dashboard /src/services/publisher/static/build ./services/publisher/static/build
COPY nof ./nof
RUN pip install -c requirements.lock . \
 && pip check


FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="nof-live" \
      org.opencontainers.image.description="NOF live league tables: ingest, scoring, publisher and the nof CLI" \
      org.opencontainers.image.licenses="MIT"

# Containers listen on every interface (the settings default to loopback for the local stack).
# NOF_LOCAL_DIR holds development-only keys; NOF_SCORING_DATA_DIR the scorer's working files:
# mount a volume on each (compose) or an emptyDir and a PersistentVolumeClaim (Kubernetes).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NOF_INGEST_HOST=0.0.0.0 \
    NOF_SCORING_HOST=0.0.0.0 \
    NOF_PUBLISHER_HOST=0.0.0.0 \
    NOF_LOCAL_DIR=/data/local \
    NOF_SCORING_DATA_DIR=/data/scoring

RUN groupadd --system --gid 10001 nof \
 && useradd --system --uid 10001 --gid nof --home-dir /home/nof --create-home --shell /usr/sbin/nologin nof \
 && mkdir -p /data/local /data/scoring \
 && chown -R nof:nof /data \
 && chmod 700 /data/local

COPY --from=build /opt/venv /opt/venv

USER 10001:10001
WORKDIR /home/nof
EXPOSE 8001 8002 8003
# Health checks live in docker-compose.yml and the Kubernetes probes (GET /healthz on each port).
CMD ["nof", "--help"]
