# scmon: the usual targets. `make test` is what CI runs (see .ci/run).
GO          ?= go
STATICCHECK_VERSION := v0.8.2
GOBIN       ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
PKGS        := ./...

.PHONY: all build test check fmt vet lint unit bench bench-peers fuzz sample seeds image scale clean

all: build

build:
	$(GO) build -o bin/scmon ./cmd/scmon

## sample: run the report on the built-in sample center
sample:
	$(GO) run ./cmd/scmon report

## test: everything CI runs: installs and starts real Slurm and PostgreSQL
## (root, Debian 12), then formatting, vet, staticcheck and every test
test:
	bash scripts/test.sh

## unit: the tests that need no service (components missing are skipped)

check: fmt vet lint

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(STATICCHECK)
	$(STATICCHECK) $(PKGS)

unit:
	$(GO) test -race -count=1 $(PKGS)

## bench: the Go benchmarks of the readers (the sacct reader also on one CPU
## over a generated dump, per line), the classifier, the engine, the
## planner's views, `scmon report` end to end over a generated dump, the
## daemon's publish at 1M stored jobs and the classifier over a generated center; the
## side-by-side comparison with pandas and DuckDB is `make bench-peers`
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./collector ./classify ./usage ./exporter ./jobstore ./backfill ./web ./planning | tee bench.txt
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'SacctReaderDump/.*/onepass' -benchtime 3x -count 3 ./collector | tee -a bench.txt
	$(GO) test -run '^$$' -bench Report -benchmem -benchtime 3x ./cmd/scmon | tee -a bench.txt
	$(GO) test -run '^$$' -bench Publish1M -benchmem -benchtime 20x ./daemon | tee -a bench.txt
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench ClassifyBatchCenter -benchmem -benchtime 3x ./classify/heldout | tee -a bench.txt

## bench-peers: `scmon report`, pandas and DuckDB over the same generated sacct
## dumps (PEER_SIZES among 100k,1m,10m; PEER_RUNS runs each); writes
## bench/peers/results.md and the README's table (scripts/bench-peers.sh)
PEER_SIZES ?= 100k,1m
PEER_RUNS  ?= 3
bench-peers:
	bash scripts/bench-peers.sh -s $(PEER_SIZES) -n $(PEER_RUNS)

## fuzz: every Go fuzz target of the module for FUZZTIME seconds each (default
## 600); the summary (targets, time, executions, new corpus entries) goes to
## fuzz-summary.md, which the README's fuzzing paragraph reports
FUZZTIME ?= 600
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME) fuzz-summary.md

## seeds: regenerate the sample center's job log
seeds:
	$(GO) run ./seeds/gen

## image: build the container images (Dockerfile, Dockerfile.slurm) with
## buildah and run them; root; not part of `make test`
image:
	bash scripts/image.sh

## scale: the measurements of the README's "Scale" section
scale:
	bash scripts/scale.sh

clean:
	rm -rf bin bench.txt fuzz-summary.md
