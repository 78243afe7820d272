# rsguard build targets. `make test` is the README's test command and what CI runs.
GO ?= go
PKGS := ./...

.PHONY: build test test-race lint bench soak demo clean

build:
	$(GO) build -o bin/ ./cmd/...

# Unit, in-process and e2e tests; e2e partition tests need root + iptables and skip otherwise.
test:
	$(GO) test -count=1 -timeout 20m $(PKGS)

# Race detector on the packages with goroutines.
test-race:
	$(GO) test -race -count=1 -timeout 20m ./mongoemu/... ./heartbeat/... ./supervisor/... ./api/... ./mongo/...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

bench:
	$(GO) test -run XXX -bench . -benchtime 3s ./mongoemu/

clean:
	rm -rf bin/
