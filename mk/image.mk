# mk/image.mk - the container image, built and run with a real engine (podman, or docker where
# a docker engine runs), no container registry needed.
#
#   make image        builds $(IMAGE) from the Dockerfile; the base image is made with
#                     debootstrap when the engine lacks it (tools/make-base-image.sh); the model
#                     comes from models/ (`make model`)
#   make test-image   builds the image, then runs it as the Deployment does (read-only root,
#                     no capabilities, non-root, a loopback port): /ready, the seed formats,
#                     the SIGTERM drain, the health check, and `podman kube play` of deploy/k8s
#
# podman reads deploy/containers.conf (runc, cgroupfs, file events, ulimits the machines grant)
# instead of the machine's /etc/containers.
TEST_TARGETS += test-image

IMAGE         ?= localhost/kokoro-api:latest
IMAGE_BASE    ?= localhost/kokoro-base:bookworm
IMAGE_CONTEXT ?= .
IMAGE_ENGINE  ?= $(if $(shell command -v podman),podman,docker)
IMAGE_ARGS    ?=
export CONTAINERS_CONF ?= $(CURDIR)/deploy/containers.conf

# podman keeps SHELL and HEALTHCHECK only in the docker format; neither engine may pull.
ifeq ($(IMAGE_ENGINE),podman)
IMAGE_BUILD := podman build --format docker --pull=never
IMAGE_HAS   := podman image exists
else
IMAGE_BUILD := docker build --pull=false
IMAGE_HAS   := docker image inspect >/dev/null 2>&1
endif

IMAGE_MODEL := models/kokoro.onnx models/voices/af_heart.bin models/lexicon/us_gold.json

.PHONY: image image-base test-image
image-base:
	@$(IMAGE_HAS) $(IMAGE_BASE) || tools/make-base-image.sh $(IMAGE_ENGINE) $(IMAGE_BASE)

image: image-base
	@for f in $(IMAGE_MODEL); do test -s $(IMAGE_CONTEXT)/$$f \
	    || { echo "image: $$f is missing: run make model first" >&2; exit 1; }; done
	$(IMAGE_BUILD) --build-arg BASE=$(IMAGE_BASE) $(IMAGE_ARGS) -t $(IMAGE) $(IMAGE_CONTEXT)

test-image: image
	IMAGE=$(IMAGE) IMAGE_ENGINE=$(IMAGE_ENGINE) \
	    python3 -m pytest -q -s -p no:cacheprovider tests/image
