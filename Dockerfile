# Diplo as a container: the database is built from the seeds at build time, then served read-only by a non-root user.
# Build:  docker build -t diplo .      Run:  docker run -p 8000:8000 diplo

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
COPY seeds ./seeds
COPY schema ./schema
RUN python -m venv /opt/diplo \
    && /opt/diplo/bin/pip install --no-cache-dir . \
    && mkdir /srv/diplo \
    && /opt/diplo/bin/diplo load seeds --db /srv/diplo/diplo.db \
    && /opt/diplo/bin/diplo check /srv/diplo/diplo.db

FROM python:3.11-slim
COPY --from=build /opt/diplo /opt/diplo
# Owned by root and not writable by the user that serves it: opened read-only and immutable, no locks, no sidecars.
COPY --from=build --chmod=0444 /srv/diplo/diplo.db /srv/diplo/diplo.db
USER 10001:10001
ENV PATH=/opt/diplo/bin:$PATH \
    XDG_CACHE_HOME=/tmp
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=2s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["diplo", "serve", "--db", "/srv/diplo/diplo.db", "--host", "0.0.0.0", "--port", "8000", "--no-graphiql", "--log-format", "json"]
