# PostgreSQL from Debian's packages, for hosts without a container registry
# (scripts/container-smoke.sh builds it on a local Debian base). Same contract as the official
# image for what docker-compose.yml uses: POSTGRES_USER, POSTGRES_DB and POSTGRES_PASSWORD create
# the cluster on first start in PGDATA (a volume), password authentication over TCP, pg_isready.
#   docker build -f docker/postgres.Dockerfile --build-arg BASE_IMAGE=debian:bookworm-slim -t genlens-postgres .
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ARG PG_MAJOR=15
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Unpinned: the server follows Debian's security updates of the base's release. The package
# would create a cluster under /var/lib/postgresql/15; the entrypoint makes PGDATA's.
# hadolint ignore=DL3008
RUN mkdir -p /etc/postgresql-common \
    && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}" \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown postgres:postgres /var/lib/postgresql/data /var/run/postgresql \
    && chmod 700 /var/lib/postgresql/data
ENV PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
# The package's system user (its id is chosen at install time).
# hadolint ignore=DL3066
USER postgres
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
