# page-tracker container image: one image for the web (`page-tracker serve`: granian), the
# Celery worker and
# beat, and the `page-tracker` CLI (README "Docker").
#
#   base     pinned slim Python + Debian security updates + the unprivileged user
#   builder  locked dependencies (uv.lock), then the source; runs the unit tests, ruff,
#            mypy and bandit, and builds the wheel - a failing gate fails the build
#   test     builder + the e2e suite as the non-root user (compose profile `testing`)
#   runtime  (default target) a venv with the hashed runtime dependencies
#            (constraints.txt) and the wheel only: no compiler, no test or lint tools
#
# No `# syntax=` line on purpose: the built-in BuildKit frontend is enough and nothing
# has to be pulled (CI builds offline).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- base ------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Security updates of the base image's packages (seed 001); lists removed afterwards.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid/gid so volume ownership is predictable across releases.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --create-home \
        --shell /usr/sbin/nologin app

# --- builder ---------------------------------------------------------------------------
FROM base AS builder

ARG UV_VERSION=0.13.8
RUN python3 -m pip install --no-cache-dir "uv==${UV_VERSION}"

ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON=python3 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

WORKDIR /src

# Dependencies first, from the lock file only: this layer is reused until uv.lock changes.
# Only the groups the build gates need (test + lint), not the docs toolchain.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project --no-default-groups --group test --group lint

# babel.cfg: the catalog test (tests/unit/test_translations.py) extracts with it.
COPY README.md CHANGELOG.md babel.cfg ./
COPY src ./src
COPY tests ./tests
RUN uv sync --locked --no-default-groups --group test --group lint

# The gates of `make lint typecheck security test-unit`, on what goes into the wheel.
# test_ci_definitions/test_commit_check/test_docs/test_compose_redis/test_shipped_server/
# test_vendored_scripts check repository
# files that are not part of the image (workflows, scripts/, git history, docs, compose,
# vendor.sha256); `make test` runs them.
RUN ruff check src tests \
    && ruff format --check src tests \
    && mypy src \
    && bandit -q -c pyproject.toml -r src \
    && python -m pytest tests/unit -p no:cacheprovider -q \
        --ignore=tests/unit/test_ci_definitions.py \
        --ignore=tests/unit/test_commit_check.py \
        --ignore=tests/unit/test_docs.py \
        --ignore=tests/unit/test_compose_redis.py \
        --ignore=tests/unit/test_shipped_server.py \
        --ignore=tests/unit/compat/test_vendored_scripts.py

RUN uv build --wheel --out-dir /dist

# --- test ------------------------------------------------------------------------------
# The whole-system test: `docker compose --profile testing up --exit-code-from
# test-service` runs this against nginx -> web over the compose network.
FROM builder AS test

RUN chown -R app:app /src
USER app
ENV HOME=/app
CMD ["python", "-m", "pytest", "tests/e2e", "-p", "no:cacheprovider", "-v", \
     "--flask-url", "http://nginx", "--redis-url", "redis://redis:6379/0"]

# --- runtime ---------------------------------------------------------------------------
FROM base AS runtime

# The venv gets no pip of its own: the base image's pip installs into it (--python), so
# nothing in the final venv can install packages at run time.
# (PATH without the venv: the base image's python3, /usr/local/bin or /usr/bin.)
ARG PIP="env PATH=/usr/local/bin:/usr/bin:/bin python3 -m pip --python /opt/venv/bin/python"
RUN python3 -m venv --without-pip "$VIRTUAL_ENV"

# Runtime dependencies, pinned and hash-checked (constraints.txt is exported from uv.lock
# by `make lock`); cached until the constraints change.
COPY constraints.txt /tmp/constraints.txt
RUN $PIP install --no-cache-dir --require-hashes \
        --no-deps -r /tmp/constraints.txt \
    && rm /tmp/constraints.txt

# The application: only the wheel the builder tested; pip check proves the locked
# dependencies satisfy it.
COPY --from=builder /dist/*.whl /tmp/
RUN $PIP install --no-cache-dir --no-deps /tmp/*.whl \
    && $PIP check \
    && rm /tmp/*.whl

WORKDIR /app
RUN mkdir -p /app/var/log /app/var/imports && chown -R app:app /app/var

ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/page-tracker/page-tracker
LABEL org.opencontainers.image.title="page-tracker" \
      org.opencontainers.image.description="Self-hosted page-view tracking" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"

ENV PAGE_TRACKER_ENV=production \
    LOG_DIR=/app/var/log \
    PAGE_TRACKER_VERSION=${VERSION}

USER app
EXPOSE 8000

# Python instead of curl: nothing extra installed. Web containers answer /healthz;
# compose gives worker/beat/migrate their own checks.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# The same server `make run` starts, chosen by measurement (bench/README.md, issue 13):
# granian, one worker per core (one on SQLite) x 64 threads.
CMD ["page-tracker", "serve", "--host", "0.0.0.0", "--port", "8000"]
