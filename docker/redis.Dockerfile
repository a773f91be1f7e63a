# Redis from Debian's package, for hosts without a container registry (scripts/container-smoke.sh
# builds it on a local Debian base). The compose file's `redis` service gives the command line:
#   docker build -f docker/redis.Dockerfile --build-arg BASE_IMAGE=debian:bookworm-slim -t genlens-redis .
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
# Unpinned: the server follows Debian's security updates of the base's release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data \
    && chown redis:redis /data
WORKDIR /data
# The package's system user (its id is chosen at install time).
# hadolint ignore=DL3066
USER redis
EXPOSE 6379
CMD ["redis-server"]
