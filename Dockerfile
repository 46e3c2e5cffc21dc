# Dockerfile - the kokoro speech service: `kokoro serve` on port 8000 with the model baked in.
#
#   make model && make image          # podman (or docker), no container registry needed
#   podman run --rm -p 127.0.0.1:8000:8000 --read-only localhost/kokoro-api:latest
#
# BASE is any Debian bookworm image: `make image` makes one with debootstrap when it has none
# (tools/make-base-image.sh), so the build reaches no container registry. The model, voices and
# lexicons come from the build context's models/, fetched on the host by `make model`: the
# build needs neither pip nor npm. The build stage installs only the packages that build
# build/kokoro; the runtime stage holds the stripped program, the model files, the web page and
# only the Debian packages of the shared libraries the program links. It runs as an
# unprivileged user and writes nowhere but /tmp/audio, so it works with a read-only root.
#
# AAC=0 (the default here) builds without libavcodec, which with the codecs and X11 libraries
# it pulls in adds 183 MB (419 MB instead of 236); `--build-arg AAC=1` puts AAC back
# (docs/deploy.md). The Makefile builds for a baseline (x86-64-v2 on x86-64, armv8-a on arm64)
# and picks the kernels' instruction set at run time, so one image runs on every node of its
# architecture.

ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
ARG AAC=0
ENV DEBIAN_FRONTEND=noninteractive
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src

# The compiler and the -dev packages of deps/apt.txt, the list .ci/run installs: every library
# the Makefile links has its -dev package there. Not the cross compiler's, nor the sanitizer
# runtime's, nor libavcodec's unless AAC=1: the tools the tests need stay out of the image build.
COPY deps/apt.txt deps/apt.txt
# hadolint ignore=DL3008
RUN apt-get update \
 && awk '!/^[[:space:]]*#/ && NF { print $1 }' deps/apt.txt \
    | grep -E -e '-dev$' | grep -v -E -e '-cross$' -e '^libclang-rt-' \
    | if [ "$AAC" = 0 ]; then grep -v -x libavcodec-dev; else cat; fi \
    | xargs apt-get install -y --no-install-recommends gcc libc6-dev make pkg-config \
 && rm -rf /var/lib/apt/lists/*

COPY Makefile ./
COPY mk mk
COPY include include
COPY src src
COPY deploy/runtime-packages.sh deploy/runtime-packages.sh
RUN make -j"$(nproc)" AAC="$AAC" build/kokoro \
 && strip --strip-all build/kokoro \
 && build/kokoro --help > /dev/null \
 && deploy/runtime-packages.sh build/kokoro > build/runtime-packages.txt


# The runtime's file system, made on the base and then copied whole into an empty image, so
# that what it removes is gone from the image rather than hidden in a layer above.
FROM ${BASE} AS runtime-root
ENV DEBIAN_FRONTEND=noninteractive
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The Debian packages of the shared libraries build/kokoro links (deploy/runtime-packages.sh)
# and a user with a fixed uid, so that Kubernetes can verify runAsNonRoot. Then out go what the
# server never runs or opens: the package tools (apt, debconf, perl), the login, file system and
# text tools (each in an order whose removal scripts still find what they use, coreutils
# last), time zones, character set
# converters, X11 locales and the LAPACK library that came with OpenBLAS. bash stays for the
# health check, dash as /bin/sh, and dpkg's database lists every package that stays.
COPY --from=build /src/build/runtime-packages.txt /tmp/runtime-packages.txt
# hadolint ignore=DL3008
RUN apt-get update \
 && xargs apt-get install -y --no-install-recommends < /tmp/runtime-packages.txt \
 && groupadd --gid 10001 kokoro \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin kokoro \
 && install -d -o 10001 -g 10001 -m 0700 /tmp/audio \
 && dpkg --purge --force-remove-essential --force-depends tzdata libpam-runtime \
        libpam-modules libpam-modules-bin \
 && dpkg --purge --force-remove-essential --force-depends util-linux login passwd hostname \
        ncurses-bin sysvinit-utils bsdutils mount init-system-helpers debianutils e2fsprogs \
        libext2fs2 libss2 logsave \
 && dpkg --purge --force-remove-essential --force-depends apt libapt-pkg6.0 adduser debconf \
        perl-base gpgv debian-archive-keyring libdb5.3 \
 && rm -rf /tmp/runtime-packages.txt /var/lib/apt /var/cache/* /var/log/* \
        /var/lib/dpkg/*-old /usr/lib/*-linux-gnu/gconv /usr/share/X11/locale \
        /usr/lib/*-linux-gnu/openblas-pthread/liblapack.so.3 \
 && dpkg --purge --force-remove-essential --force-depends diffutils findutils tar gzip grep \
        sed coreutils


FROM scratch
LABEL org.opencontainers.image.title="kokoro-api" \
      org.opencontainers.image.description="Kokoro-82M text-to-speech in plain C with an HTTP API" \
      org.opencontainers.image.licenses="GPL-3.0-or-later AND Apache-2.0 AND MIT"
# hadolint ignore=DL3067
COPY --from=runtime-root / /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

COPY --from=build /src/build/kokoro /usr/local/bin/kokoro
# Every library it links is still there after the removals above.
RUN kokoro --help > /dev/null
# The model, voices and lexicons; mount another models/ over /app/models to change them.
COPY models/kokoro.onnx /app/models/kokoro.onnx
COPY models/voices /app/models/voices
COPY models/lexicon /app/models/lexicon
COPY web /app/web

WORKDIR /app
# Temporary audio goes to /tmp/audio, a volume: writable even under `--read-only`, and the
# emptyDir of the Kubernetes Deployment. KOKORO_HOST and KOKORO_PORT say where the server
# listens; the health check asks the same port.
ENV TMPDIR=/tmp/audio \
    KOKORO_HOST=0.0.0.0 \
    KOKORO_PORT=8000
VOLUME ["/tmp/audio"]
USER 10001:10001
EXPOSE 8000 10200
# bash's /dev/tcp, so that the image needs no curl (and its TLS and LDAP libraries).
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${KOKORO_PORT:-8000} && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && read -r _ code _ <&3 && [ \"$code\" = 200 ]"]
ENTRYPOINT ["kokoro"]
CMD ["serve"]
