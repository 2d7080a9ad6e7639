// Package classify decides the workload class of a job record (AI training,
// AI inference, other, or unknown) and says which rules decided it.
//
// Classification is a pure function of a record and a rule set: no clock, no
// I/O. The accounting engine only sees the Classifier interface, so a rule
// set can be replaced (an operator's rules file, a test's) without touching
// the engine.
package classify

import (
	"github.com/scmon/scmon/job"
)

// Class is a workload class. It is job.Class, kept under this name so
// that the rules engine and its callers read as before; packages that only
// count by class (the engine, the store, the exporter) import job instead
// and do not pull in the rules engine.
type Class = job.Class

// The classes, as job defines them.
const (
	Unknown     = job.ClassUnknown
	AITraining  = job.ClassAITraining
	AIInference = job.ClassAIInference
	Other       = job.ClassOther
)

// Classes lists every class in display order; it is job.Classes.
var Classes = job.Classes

// ParseClass reads a class name as Class.String writes it.
func ParseClass(s string) (Class, error) { return job.ParseClass(s) }

// classNames sizes the arrays indexed by class (a score per class).
var classNames [job.NumClasses]struct{}

// Decision is the outcome of classifying one record; it is job.Decision.
type Decision = job.Decision

// Classifier classifies records. Implementations must be safe for
// concurrent use and must not retain the record.
type Classifier interface {
	Classify(r *job.Record) Decision
}

// BatchClassifier classifies a whole input at once, so that stages which
// learn from the input (context, a learned model) can take part. Result i
// belongs to recs[i].
type BatchClassifier interface {
	Classifier
	ClassifyBatch(recs []*job.Record) []Decision
}
