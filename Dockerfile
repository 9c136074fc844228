# motcua: the chatbot of a one-stop-shop office, as a container (docs/deploy.md).
#   docker build -t motcua .
#   docker run --env-file motcua.env -v motcua-data:/var/lib/motcua -p 8080:8080 motcua
# The image runs `motcua run` as an unprivileged user; settings come from MOTCUA_*
# variables, secrets preferably from files (MOTCUA_<NAME>_FILE=/run/secrets/<name>).

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY surveys ./surveys
# The PostgreSQL driver is in; the charts extra (matplotlib) is not needed to serve.
RUN python -m venv /opt/motcua \
    && /opt/motcua/bin/pip install --no-cache-dir ".[postgres]"

FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="motcua" \
      org.opencontainers.image.description="Chatbot for Vietnam's one-stop-shop offices" \
      org.opencontainers.image.licenses="MIT"
ENV PATH=/opt/motcua/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MOTCUA_DATA_DIR=/var/lib/motcua \
    MOTCUA_HTTP_HOST=0.0.0.0 \
    MOTCUA_HTTP_PORT=8080 \
    MOTCUA_LOG_FORMAT=json
RUN groupadd --system --gid 10001 motcua \
    && useradd --system --uid 10001 --gid motcua --home-dir /var/lib/motcua \
       --no-create-home --shell /usr/sbin/nologin motcua \
    && mkdir -p /var/lib/motcua \
    && chown motcua:motcua /var/lib/motcua
COPY --from=build /opt/motcua /opt/motcua
USER 10001:10001
WORKDIR /var/lib/motcua
VOLUME ["/var/lib/motcua"]
EXPOSE 8080
# Liveness only: a case system or database that is down is not a reason to restart.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["motcua", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["motcua"]
CMD ["run"]
