# syntax=docker/dockerfile:1
# Roost's one image: the gateway (`roost serve`, the entry point) and, with KubeRay's `ray start`
# in place of the entry point, the Ray head and workers (k8s/base/raycluster.yaml), so the actors
# and job handlers the gateways call are the same code at the same Ray version.
#
# No container engine runs on the project's machines: tests/k8s/test_dockerfile.py checks this file
# statically (multi-stage, pinned slim base, non-root, no build tools in the final stage, ports,
# health check, entry point, Ray version = the RayCluster's rayVersion).

# Both stages: the interpreter CI tests on (3.11.7), written out rather than through an ARG so
# scanners see the pinned tag; bump both stages and the CI Python together.
FROM python:3.11.7-slim-bookworm AS build
# Ray Client and a driver both refuse a Ray that differs from the cluster's: pinned here and in
# k8s/base/raycluster.yaml (spec.rayVersion), a test holds them equal.
ARG RAY_VERSION=2.60.0
# Compilers only here, for any dependency without a wheel for this platform; the final stage
# copies the installed tree, never these.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml ./
COPY domain ./domain
COPY storage ./storage
COPY actors ./actors
COPY jobs ./jobs
COPY gateway ./gateway
# --prefix: the final stage copies one tree into /usr/local, whose bin/ stays on PATH even under
# KubeRay's `bash -l` (a login shell resets PATH, which would lose a venv's bin/).
# ray[default]: the head's dashboard, Ray Client server and the in-tree autoscaler need its extras.
# Byte-compiled here (pip's default): the pods' root filesystem is read-only, nothing compiles later.
RUN pip install --no-cache-dir --prefix=/install . "ray[default]==${RAY_VERSION}"

FROM python:3.11.7-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="roost" \
      org.opencontainers.image.description="Roost gateway (roost serve) and its Ray nodes"
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_ENV=production \
    ROOST_DATA_DIR=/var/lib/roost \
    HOME=/var/lib/roost
# A fixed numeric uid/gid, so `runAsUser: 10001` in the manifests and `USER` here are the same user
# and runAsNonRoot can be verified by the kubelet without reading /etc/passwd.
RUN groupadd --system --gid 10001 roost \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/roost --shell /usr/sbin/nologin roost \
    && mkdir -p /var/lib/roost/media \
    && chown -R 10001:10001 /var/lib/roost
COPY --from=build /install /usr/local
USER 10001:10001
WORKDIR /var/lib/roost
# 8000: the public HTTP port; 9100: /metrics (METRICS_PORT in k8s/base/configmap.yaml), off the ingress
EXPOSE 8000 9100
# For plain `docker run`; Kubernetes ignores it and uses the Deployment's probes on the same paths.
HEALTHCHECK --interval=15s --timeout=3s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# aiohttp's run_app drains in-flight requests on SIGTERM (k8s/README.md, "Shutdown")
STOPSIGNAL SIGTERM
ENTRYPOINT ["roost"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
