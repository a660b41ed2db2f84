# Spark 3.5 (pyspark) on Java 17 with batch_app and training: master, worker or a job.
# Build: python -m stack.images spark   (or: docker build -f dockerfiles/spark.Dockerfile
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

# Java 17 for Spark (Debian's headless JRE); apt lists removed in the same layer.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*

COPY requirements-common.txt /opt/smart-meter/requirements-common.txt
RUN pip install -r /opt/smart-meter/requirements-common.txt

COPY requirements.txt /opt/smart-meter/requirements.txt
RUN pip install -r /opt/smart-meter/requirements.txt \
 && pip uninstall -y -q pip setuptools
COPY docker/entrypoint.sh /usr/local/bin/smart-meter-entrypoint
COPY docker/healthcheck.py /usr/local/bin/smart-meter-healthcheck
COPY app/ /opt/smart-meter/app/
RUN ln -s "$(python -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')" /opt/spark

# master:  spark-class org.apache.spark.deploy.master.Master
# worker:  spark-class org.apache.spark.deploy.worker.Worker spark://spark-master:7077
# jobs:    python -m batch_app ... / python -m training ... (--master spark://...)
ENV SPARK_HOME=/opt/spark PATH=/opt/spark/bin:/opt/smart-meter/venv/bin:$PATH \
    SPARK_WORKER_DIR=/home/smart-meter/work SPARK_DAEMON_MEMORY=512m \
    SMART_METER_HEALTH_URL=http://127.0.0.1:8080/json/

ENV SMART_METER_REQUIRED_SECRETS=""
USER 10001:10001
WORKDIR /home/smart-meter
HEALTHCHECK --interval=10s --timeout=6s --start-period=30s --retries=3 \
    CMD ["python3", "/usr/local/bin/smart-meter-healthcheck"]
ENTRYPOINT ["/usr/local/bin/smart-meter-entrypoint"]
CMD ["spark-class", "org.apache.spark.deploy.master.Master"]
