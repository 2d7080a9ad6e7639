package job

import "fmt"

// Class is the workload class of a record: what the classifier decides and
// what the accounting engine, the store and the exporter count by. It lives
// here, beside the record, so that those packages name a class without
// importing the rules engine (package classify) and its configuration
// loader.
type Class uint8

// The classes. ClassUnknown is the zero value: a record nobody classified is
// unknown, never silently "other".
const (
	ClassUnknown Class = iota
	ClassAITraining
	ClassAIInference
	ClassOther
)

// Classes lists every class in display order; closed label sets iterate
// over it.
var Classes = []Class{ClassAITraining, ClassAIInference, ClassOther, ClassUnknown}

var classNames = [...]string{
	ClassUnknown:     "unknown",
	ClassAITraining:  "ai_training",
	ClassAIInference: "ai_inference",
	ClassOther:       "other",
}

// NumClasses is the number of classes: arrays indexed by Class have this
// length.
const NumClasses = len(classNames)

// String returns the class name used in reports, labels and rule files.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// IsAI reports whether the class counts towards the AI share.
func (c Class) IsAI() bool { return c == ClassAITraining || c == ClassAIInference }

// ParseClass reads a class name as String writes it.
func ParseClass(s string) (Class, error) {
	for i, n := range classNames {
		if s == n {
			return Class(i), nil
		}
	}
	return ClassUnknown, fmt.Errorf("unknown class %q (want one of ai_training, ai_inference, other, unknown)", s)
}

// MarshalText writes the class name, so that classes read well in JSON.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a class name.
func (c *Class) UnmarshalText(b []byte) error {
	v, err := ParseClass(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Decision is the outcome of classifying one record: the class and the ids
// of the rules that fired, in the order they were evaluated. The store keeps
// it beside the record, so that a query can say why a job got its class.
type Decision struct {
	// Class is the decided class.
	Class Class `json:"class"`
	// Rules are the ids of the rules that fired: the decisive rule that
	// decided, or every evidence rule that added to a score.
	Rules []string `json:"rules"`
}
