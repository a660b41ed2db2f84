"""Health of a smart-meter container (the image's HEALTHCHECK).

With ``SMART_METER_HEALTH_URL`` set (servers: NATS ``/healthz``, the Spark master's
``/json/``), that URL must answer 200. Otherwise (the services) a NATS server of
``SMART_METER_NATS_URL`` must accept connections: a service that cannot reach its
broker is not healthy. Exit 0 when healthy, 1 with one line otherwise.
"""

import os
import socket
import sys
import urllib.parse
import urllib.request

TIMEOUT_S = 4.0


def url_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def nats_reachable(urls: str) -> bool:
    for url in urls.split(","):
        parts = urllib.parse.urlsplit(url.strip())
        try:
            with socket.create_connection((parts.hostname or "", parts.port or 4222), TIMEOUT_S):
                return True
        except OSError:
            continue
    return False


def main() -> int:
    url = os.environ.get("SMART_METER_HEALTH_URL")
    if url:
        healthy, what = url_answers(url), url
    else:
        nats_url = os.environ.get("SMART_METER_NATS_URL", "nats://127.0.0.1:4222")
        healthy, what = nats_reachable(nats_url), nats_url
    if not healthy:
        print(f"unhealthy: {what} does not answer", file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
