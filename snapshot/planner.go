package snapshot

// Outcomes are the ways an AI job on accelerators ends, the values of the
// outcome label of the friction counters, a closed set in display order.
// cancelled_early is a cancellation within the first ten minutes of the
// run (planning.EarlyCancel): with failed, node_fail and out_of_memory it
// is what the planner's view counts as a failure (FailureOutcomes).
var Outcomes = []string{"completed", "failed", "node_fail", "out_of_memory", "cancelled_early", "cancelled", "timeout", "other"}

// FailureOutcomes are the outcomes that count as a failure to run as
// meant: where porting to an accelerator hurts.
var FailureOutcomes = []string{"failed", "node_fail", "out_of_memory", "cancelled_early"}

// DeviceOrigin names the origin (accel.Origins: domestic, imported,
// unknown) of an accelerator kind and model, so that the exporter can
// label its accelerator counters with it. The origin is a function of the
// device, so the label adds no series.
type DeviceOrigin struct {
	Kind, Model, Origin string
}

// Friction counts the AI jobs of one cluster, accelerator, class and
// outcome that ran and ended since the start of the job history, and the
// seconds they ran (End - Start): the adaptation friction of the planner's
// view as counters. A job holding two models counts under each.
type Friction struct {
	Cluster, Kind, Model, Origin, Class, Outcome string
	Jobs                                         float64
	RunSeconds                                   float64
}
