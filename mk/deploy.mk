# mk/deploy.mk - shipping: Kubernetes/Istio manifests, container recipe, web page (make test-deploy).
TEST_TARGETS += test-deploy

DEPLOY_NODE := tests/deploy/node_modules/.package-lock.json

.PHONY: test-deploy
# Manifests rendered by kubectl kustomize (where kubectl exists) and checked offline against
# strict Kubernetes schemas (kubernetes-validate) and Istio's (@kubernetes-models/istio).
test-deploy: $(DEPLOY_NODE)
	python3 -m pytest -q tests/deploy

# npm ci installs exactly the lockfile; it runs again only when the lockfile changes.
$(DEPLOY_NODE): tests/deploy/package-lock.json tests/deploy/package.json
	cd tests/deploy && npm ci --no-audit --no-fund --loglevel=error
