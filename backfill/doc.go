// Package backfill turns a job history into the Prometheus series that
// scmon's daemon would have exported had it been running all along: the
// scmon_allocated_*_seconds_total and scmon_capacity_*_seconds_total
// counters, with the same names and label sets, sampled at every step of a
// past window. Dashboards and recording rules then work unchanged across
// backfilled history and live data.
//
// A counter's value at time t is the resource-seconds held from the start
// of the history up to t, exactly: every allocation contributes its count
// times its overlap with [start of history, t), as the usage engine
// attributes it, running allocations up to t. increase() between two
// sample times therefore gives exactly what `scmon report` computes for
// that window (to float64 rounding for billing units, whose weights may be
// fractional; the other counters are integers below 2^53, exact in a
// float64).
//
// The package is split in three. A Generator computes the values, chunk by
// chunk in time order, in memory bounded by the chunk size rather than by
// the length of the history. WriteOpenMetrics writes them as OpenMetrics
// text for `promtool tsdb create-blocks-from openmetrics`, spooling the
// chunks to a temporary file so that every series comes out contiguous and
// in time order, as the format requires. RemoteWriter sends them to a
// Prometheus remote-write endpoint (protocol 1.0: protobuf and snappy),
// oldest samples first, in batches, retrying on 5xx and 429.
package backfill
