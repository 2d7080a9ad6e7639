// Package classify decides the workload class of a job record (AI training,
// AI inference, other, or unknown) and says which rules decided it.
//
// Classification is a pure function of a record and a rule set: no clock, no
// I/O. The accounting engine only sees the Classifier interface, so a rule
// set can be replaced (an operator's rules file, a test's) without touching
// the engine.
package classify

import (
	"fmt"

	"github.com/scmon/scmon/job"
)

// Class is a workload class.
type Class uint8

// The classes. Unknown is the zero value: a record nobody classified is
// unknown, never silently "other".
const (
	Unknown Class = iota
	AITraining
	AIInference
	Other
)

// Classes lists every class in display order; closed label sets iterate
// over it.
var Classes = []Class{AITraining, AIInference, Other, Unknown}

var classNames = [...]string{
	Unknown:     "unknown",
	AITraining:  "ai_training",
	AIInference: "ai_inference",
	Other:       "other",
}

// String returns the class name used in reports, labels and rule files.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// IsAI reports whether the class counts towards the AI share.
func (c Class) IsAI() bool { return c == AITraining || c == AIInference }

// ParseClass reads a class name as String writes it.
func ParseClass(s string) (Class, error) {
	for i, n := range classNames {
		if s == n {
			return Class(i), nil
		}
	}
	return Unknown, fmt.Errorf("unknown class %q (want one of ai_training, ai_inference, other, unknown)", s)
}

// Decision is the outcome of classifying one record: the class and the ids
// of the rules that fired, in the order they were evaluated.
type Decision struct {
	// Class is the decided class.
	Class Class `json:"class"`
	// Rules are the ids of the rules that fired: the decisive rule that
	// decided, or every evidence rule that added to a score.
	Rules []string `json:"rules"`
}

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
