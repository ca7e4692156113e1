# Stand-in for python:3.12-slim in docker/docker-compose.yml, built from the
# local debian:12-slim when no image registry is reachable (tests/docker/run).
# The backends (tests/e2e/harness/backend.py) need only python3's stdlib.
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*
