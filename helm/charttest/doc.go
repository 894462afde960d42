// Package charttest renders the Helm chart in ../epom the way `helm template` does and checks
// what comes out: every manifest decodes strictly into its Kubernetes (or Prometheus
// Operator) Go type, and the invariants the chart promises hold (one scheduler, the migration
// hook with the owner credentials and nowhere else, no credentials outside Secrets, probes and
// pod security on every workload, selectors that select, alerts and dashboard queries that
// parse and name metrics the binary exports). Wrong values must fail with a readable message.
//
// It is a Go module of its own so that Helm and the Kubernetes API types stay out of the
// product's go.mod; its go.mod also pins the Helm command (`go tool helm`) that
// scripts/helm-test.sh uses for `helm lint` and `helm template`.
package charttest
