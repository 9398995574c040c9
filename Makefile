# Shortcuts for the scripts in hack/; the scripts work without make.
SHELL := /bin/bash
SCENARIOS := $(patsubst molecule/%/molecule.yml,molecule\:%,$(wildcard molecule/*/molecule.yml))

.PHONY: demo test setup unit sanity lint changelog molecule demo-clean build bench

demo:
	hack/demo.sh
test:
	hack/test.sh
bench:
	hack/bench.sh
setup:
	hack/setup.sh
unit sanity lint changelog:
	hack/test.sh $@
molecule:
	hack/test.sh $(SCENARIOS)
demo-clean:
	hack/demo.sh clean
build: setup
	. hack/env.sh && ansible-galaxy collection build --force --output-path .cache/build
