// Package e2e tests the built plugin binary the way Grafana runs it: a
// subprocess launched with hashicorp/go-plugin and the SDK's handshake,
// queried over gRPC, against recorded answers of scmon and against a real
// `scmon serve` of the sample center.
package e2e
