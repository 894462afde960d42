#!/usr/bin/env bash
# scripts/helm-test.sh: test the Helm chart helm/epom without a cluster.
#
#   1. helm lint --strict with each helm/epom/ci/*-values.yaml
#   2. helm template with each of them (what `helm install` would send)
#   3. helm template without values must fail on the schema (the CLI validates as the test does)
#   4. go test in helm/charttest: renders the chart with the same values and bad ones,
#      decodes every manifest strictly into the Kubernetes types and checks the invariants
#
# Helm is not installed: it is the Go package helm.sh/helm/v3/cmd/helm, pinned (with the
# Kubernetes libraries of the test) in helm/charttest/go.mod and run with `go tool helm`.
# The first run downloads and compiles it (a few minutes); later runs reuse Go's caches.
# Safe to run any number of times; besides Go's module and build caches it writes only to a
# temporary directory it removes.
#
# Environment: GO [go]  KUBE_VERSION [1.30.0, the oldest the chart supports]
set -euo pipefail

GO=${GO:-go}
KUBE_VERSION=${KUBE_VERSION:-1.30.0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHART=$ROOT/helm/epom
TESTMOD=$ROOT/helm/charttest

say() { printf 'helm-test: %s\n' "$*" >&2; }
fail() {
	printf 'helm-test: FAILED: %s\n' "$*" >&2
	exit 1
}

# Helm keeps caches and repository settings under $HOME; give it an empty, private home so
# the result does not depend on the machine and nothing is left behind.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/epom-helm-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export HELM_CACHE_HOME=$TMP/cache HELM_CONFIG_HOME=$TMP/config HELM_DATA_HOME=$TMP/data

helm() { (cd "$TESTMOD" && "$GO" tool helm "$@"); }

say "building helm ($(cd "$TESTMOD" && "$GO" list -m -f '{{.Version}}' helm.sh/helm/v3))"
helm version --short >/dev/null || fail "could not build helm from helm/charttest/go.mod"

shopt -s nullglob
values=("$CHART"/ci/*-values.yaml)
((${#values[@]} > 0)) || fail "no helm/epom/ci/*-values.yaml"

for v in "${values[@]}"; do
	name=ci/$(basename "$v")
	say "lint with $name"
	helm lint --strict --quiet --kube-version "$KUBE_VERSION" "$CHART" -f "$v" >"$TMP/lint.out" 2>&1 ||
		{ cat "$TMP/lint.out" >&2; fail "helm lint with $name"; }
	say "template with $name"
	helm template epom "$CHART" --namespace obce --kube-version "$KUBE_VERSION" -f "$v" >"$TMP/manifests.yaml" 2>"$TMP/template.err" ||
		{ cat "$TMP/template.err" >&2; fail "helm template with $name"; }
	[[ -s $TMP/manifests.yaml ]] || fail "helm template with $name rendered nothing"
done

say "template without values must be refused"
if helm template epom "$CHART" --kube-version "$KUBE_VERSION" >/dev/null 2>"$TMP/template.err"; then
	fail "helm template without a host rendered; the schema should have refused it"
fi
grep -q "missing property 'host'" "$TMP/template.err" ||
	{ cat "$TMP/template.err" >&2; fail "helm template without values failed, but not with the schema's message"; }

say "go test ./... in helm/charttest"
(cd "$TESTMOD" && "$GO" test -count=1 ./...) || fail "go test in helm/charttest"

say "ok"
