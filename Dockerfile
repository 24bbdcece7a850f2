# syntax=docker/dockerfile:1
# The bot as an image (docs/DEPLOYMENT.md, "Docker and compose"): the wheel built with the
# locked build tools, installed with the locked dependencies, every file checked against the
# hash in requirements/*.txt. The locks are resolved for CPython 3.11 on Linux.
#
#   docker build -t telegram-loyalty .
#   docker run --env-file .env -v loyalty-data:/data -p 127.0.0.1:8080:8080 telegram-loyalty

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements/build.txt requirements/build.txt
RUN python -m pip install --require-hashes -r requirements/build.txt
COPY . .
RUN python -m pip wheel --no-deps --no-build-isolation --wheel-dir /dist .

FROM python:3.11-slim-bookworm
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY requirements/run.txt /tmp/run.txt
RUN python -m pip install --require-hashes -r /tmp/run.txt && rm /tmp/run.txt
COPY --from=build /dist/ /tmp/dist/
RUN python -m pip install --no-deps /tmp/dist/*.whl && rm -r /tmp/dist \
    && useradd --system --uid 10001 --user-group --home-dir /data --create-home loyalty
USER loyalty
WORKDIR /data
# SQLite by default (one machine); compose.yaml sets PostgreSQL and Redis. The HTTP server
# (partner API, /healthz, /metrics, webhook) listens on every interface of the container:
# publish it on 127.0.0.1 or behind the reverse proxy only.
ENV DATABASE_URL=sqlite+aiosqlite:////data/loyalty.db HTTP_HOST=0.0.0.0 HTTP_PORT=8080
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
STOPSIGNAL SIGTERM
# Migrates the database, then starts the bot (without BOT_TOKEN: the sandbox, see README).
CMD ["loyalty-bot", "run"]
