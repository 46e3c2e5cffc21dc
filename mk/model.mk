# mk/model.mk - fetching the model and voices (make model).
MODEL_TARGETS += model-weights
.PHONY: model-weights
model-weights:
	tools/fetch-model.sh
