# Container images: one per service, built without a Docker daemon or base image
# (hack/imagebuild, go-containerregistry) from static binaries, as docker-archive tarballs in
# bin/images/<tag>/<service>.tar that `docker load` and `kind load image-archive` accept.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE_TAG ?= $(VERSION)
IMAGE_REPOSITORY_PREFIX ?= kubernaut
IMAGE_ARCH ?= $(shell go env GOARCH)
IMAGE_BIN := $(BIN)/linux-$(IMAGE_ARCH)
IMAGES_DIR = $(BIN)/images/$(IMAGE_TAG)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: image-binaries
image-binaries: ## Build static linux binaries of the eight services into bin/linux-<arch>/.
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) go build -trimpath -ldflags='-s -w' -o $(IMAGE_BIN)/ $(addprefix ./cmd/,$(SERVICES))

.PHONY: docker-build
docker-build: image-binaries ## Build the eight images (tag IMAGE_TAG, default git describe) into bin/images/<tag>/ without a Docker daemon.
	go run ./hack/imagebuild/cmd --bin-dir $(IMAGE_BIN) --out $(IMAGES_DIR) --repository-prefix $(IMAGE_REPOSITORY_PREFIX) \
	  --tag=$(IMAGE_TAG) --version=$(VERSION) --revision="$$(git rev-parse HEAD 2>/dev/null)" --arch=$(IMAGE_ARCH) \
	  --source-date-epoch=$(SOURCE_DATE_EPOCH) $(SERVICES)

.PHONY: e2e-workload-image
e2e-workload-image: ## Build the e2e workload's images kubernaut.local/e2e-workload:1.4.2 and :1.5.0 (internal/workload) into bin/images/<tag>/e2e-workload.tar.
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) go build -trimpath -ldflags='-s -w' -o $(IMAGE_BIN)/ ./hack/e2e-workload
	go run ./hack/imagebuild/cmd --bin-dir $(IMAGE_BIN) --out $(IMAGES_DIR) --revision="$$(git rev-parse HEAD 2>/dev/null)" \
	  --arch=$(IMAGE_ARCH) --source-date-epoch=$(SOURCE_DATE_EPOCH) --e2e-workload

.PHONY: test-images
test-images: docker-build e2e-workload-image ## Check every image: non-root user, entrypoint, and the service (or the e2e workload) running from its unpacked filesystem.
	KUBERNAUT_IMAGES_DIR=$(IMAGES_DIR) KUBERNAUT_IMAGE_TAG=$(IMAGE_TAG) go test -count=1 -v -run 'TestImages' ./test/images/

.PHONY: docker-load
docker-load: docker-build ## Load the images into a running Docker daemon (docker load).
	@docker info >/dev/null 2>&1 || { echo "docker-load: no Docker daemon answers (docker info failed); the archives are in $(IMAGES_DIR)"; exit 1; }
	for s in $(SERVICES); do docker load -i $(IMAGES_DIR)/$$s.tar; done

.PHONY: docker-push
docker-push: docker-build ## Load and push the images as IMAGE_REPOSITORY_PREFIX/<service>:<tag> through a Docker daemon logged in to that registry.
	@docker info >/dev/null 2>&1 || { echo "docker-push: no Docker daemon answers; push $(IMAGES_DIR)/*.tar with any OCI tool (crane push, skopeo copy docker-archive:...)"; exit 1; }
	for s in $(SERVICES); do docker load -i $(IMAGES_DIR)/$$s.tar && docker push $(IMAGE_REPOSITORY_PREFIX)/$$s:$(IMAGE_TAG); done

.PHONY: docker-build-dockerfile
docker-build-dockerfile: ## Multi-stage Dockerfile build (hack/images/Dockerfile), for machines with a Docker daemon and a registry.
	@docker info >/dev/null 2>&1 || { echo "docker-build-dockerfile: no Docker daemon answers; use make docker-build (no daemon needed)"; exit 1; }
	for s in $(SERVICES); do docker build -f hack/images/Dockerfile --build-arg SERVICE=$$s -t $(IMAGE_REPOSITORY_PREFIX)/$$s:$(IMAGE_TAG) .; done
