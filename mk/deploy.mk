# mk/deploy.mk - shipping: Kubernetes/Istio manifests, container recipe, web page.
#
#   make test-deploy   manifests (kubectl kustomize where present; strict Kubernetes schemas
#                      from kubernetes-validate, Istio's from @kubernetes-models/istio), the
#                      Dockerfile (hadolint and its promises), and its entry point run natively
#                      as the container runs it (read-only root, non-root user)
#   make test-web      the /web page end to end in headless Debian Chromium (playwright-core)
TEST_TARGETS += test-deploy test-web

DEPLOY_NODE := tests/deploy/node_modules/.package-lock.json
WEB_NODE    := tests/web/node_modules/.package-lock.json

.PHONY: test-deploy test-web
test-deploy: $(BUILD)/kokoro $(DEPLOY_NODE)
	BUILD=$(BUILD) python3 -m pytest -q -p no:cacheprovider tests/deploy

test-web: $(BUILD)/kokoro $(WEB_NODE)
	@mkdir -p $(BUILD)/test-out/web
	BUILD=$(BUILD) node --test --test-timeout=600000 tests/web/web.test.mjs

# npm ci installs exactly what the lockfile says; it runs again only when the lockfile changes.
$(DEPLOY_NODE): tests/deploy/package-lock.json tests/deploy/package.json
	cd tests/deploy && npm ci --no-audit --no-fund --loglevel=error
$(WEB_NODE): tests/web/package-lock.json tests/web/package.json
	cd tests/web && npm ci --no-audit --no-fund --loglevel=error
