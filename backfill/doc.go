// Package backfill turns a job history into the Prometheus series that
// scmon's daemon would have exported had it been running all along: the
// scmon_allocated_*_seconds_total and scmon_capacity_*_seconds_total
// counters, with the same names and label sets, sampled at every step of a
// past window. Dashboards and recording rules then work unchanged across
// backfilled history and live data.
//
// The values are not computed here: a Generator replays the history
// through the daemon's own counters (snapshot/build's Replay, the code the
// daemon's snapshot builder publishes from), so that a backfilled sample
// at t is what the daemon would have exported with its sources complete up
// to t, by construction. A counter's value at t is then the
// resource-seconds held from the start of the history up to t, exactly:
// every allocation contributes its count times its overlap with [start of
// history, t), running allocations up to t. increase() between two sample
// times therefore gives exactly what `scmon report` computes for that
// window (to float64 rounding for billing units, whose weights may be
// fractional; the other counters are integers below 2^53, exact in a
// float64). The capacity counters split the capacity since the start of
// the history into allocated (what the partition's jobs held, at most the
// capacity) and idle, as the daemon does; where jobs hold more than a
// partition has, idle is held where it was rather than going down.
//
// What a history cannot tell, a backfill cannot either: a job the daemon
// saw running as unknown and classified at its end keeps its early
// seconds under unknown in the daemon's counters, while the backfill,
// reading only the final record, counts all of them under the final
// class; and node states (down, drained) are not in job records, so those
// capacity states stay at zero. The idle split, occupancy and friction
// counters are not backfilled.
//
// The package is split in three. A Generator names the series (the
// exporter's closed label sets, from exporter.Families) and lays the
// replayed values out, chunk by chunk in time order, in memory bounded by
// the chunk size rather than by the length of the history. WriteOpenMetrics writes them as OpenMetrics
// text for `promtool tsdb create-blocks-from openmetrics`, spooling the
// chunks to a temporary file so that every series comes out contiguous and
// in time order, as the format requires. RemoteWriter sends them to a
// Prometheus remote-write endpoint (protocol 1.0: protobuf and snappy),
// oldest samples first, in batches, retrying on 5xx and 429.
package backfill
