# One image for every service: the command picks the service (docker-compose.yml, deploy/k8s/).
# The signing agent is not in it: it runs on workstations (agent/).
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY esign esign
COPY services services
# The versions the tests ran with (constraints.txt, `make lock`), not whatever is newest today.
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11-slim-bookworm
# The printable application form needs a font with Turkish letters (scripts/install-system-packages).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
# The SMS sink's folder (local stacks only) belongs to the service user, so a named volume
# mounted there starts writable.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin esign \
    && mkdir -p /data/sms && chown -R 10001:10001 /data
USER 10001
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
EXPOSE 8001 8002 8003
CMD ["esign", "--help"]
