package snapshot

// IdleReasons are the reasons of the idle split, a closed label set, in
// the order planning.Reasons gives them (a test keeps the two equal).
var IdleReasons = []string{"down", "drained", "planned", "blocked", "mismatch", "no_demand"}

// IdleSeconds is a cumulative count of idle resource-seconds of one
// cluster for one reason of the idle split (planning.Reasons), since the
// start of the job history: cores when Kind is empty, else accelerators of
// that kind and model.
type IdleSeconds struct {
	Cluster, Kind, Model, Reason string
	Seconds                      float64
}

// DemandSeconds is a cumulative count of the resource-seconds waiting jobs
// asked for in one cluster (cores when Kind is empty), since the start of
// the job history: the pending demand.
type DemandSeconds struct {
	Cluster, Kind, Model string
	Seconds              float64
}
