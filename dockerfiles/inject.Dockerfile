# The fleet simulator (python -m inject): publishes readings to NATS JetStream.
# Build: python -m stack.images inject   (or: docker build -f dockerfiles/inject.Dockerfile
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

COPY requirements-common.txt /opt/smart-meter/requirements-common.txt
RUN pip install -r /opt/smart-meter/requirements-common.txt

COPY requirements.txt /opt/smart-meter/requirements.txt
RUN pip install -r /opt/smart-meter/requirements.txt \
 && pip uninstall -y -q pip setuptools
COPY docker/entrypoint.sh /usr/local/bin/smart-meter-entrypoint
COPY docker/healthcheck.py /usr/local/bin/smart-meter-healthcheck
COPY app/ /opt/smart-meter/app/

ENV SMART_METER_REQUIRED_SECRETS="NATS"
USER 10001:10001
WORKDIR /home/smart-meter
HEALTHCHECK --interval=10s --timeout=6s --start-period=30s --retries=3 \
    CMD ["python3", "/usr/local/bin/smart-meter-healthcheck"]
ENTRYPOINT ["/usr/local/bin/smart-meter-entrypoint"]
CMD ["python", "-m", "inject"]
