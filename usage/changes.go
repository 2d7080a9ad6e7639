package usage

import "slices"

// Change is an allocation that Add replaced in place (a later record of
// the same run): its index and the values it held before, so that a
// consumer that has already counted it can take the old values back.
type Change struct {
	Index   uint32
	Old     Job
	OldDevs []DeviceCount
}

// changeLog holds the replacements since the last TakeChanges, while a
// consumer tracks them.
type changeLog struct {
	on      bool
	changes []Change
}

// TrackChanges starts (or stops) logging the allocations Add replaces.
// New allocations are not logged: they are the ones past the length a
// consumer saw last. Off by default, so that loading costs nothing.
func (s *Store) TrackChanges(on bool) {
	s.changes.on = on
	s.changes.changes = nil
	s.occ.recording = on
	s.occ.edits = nil
}

// TakeOccEdits returns the changes of node occupancy that the records
// added since the last call made (new allocations and replaced ones), and
// empties the log. A consumer that has counted the occupied node-seconds
// up to t corrects them with the edits' node-seconds before t, and counts
// the time after t from Occupied.
func (s *Store) TakeOccEdits() []OccEdit {
	e := s.occ.edits
	s.occ.edits = nil
	return e
}

// TakeChanges returns the replacements logged since the last call, oldest
// first, and empties the log. An index may appear several times; its first
// entry holds the values a consumer counted.
func (s *Store) TakeChanges() []Change {
	c := s.changes.changes
	s.changes.changes = nil
	return c
}

// noteReplace logs that allocation idx is about to be replaced.
func (s *Store) noteReplace(idx uint32) {
	if !s.changes.on {
		return
	}
	s.changes.changes = append(s.changes.changes, Change{Index: idx, Old: s.jobs[idx], OldDevs: slices.Clone(s.multi[idx])})
}

// DeviceCounts returns the devices of j as they were when it was logged:
// devs for a job holding several, else its single device.
func (c *Change) DeviceCounts() []DeviceCount {
	switch c.Old.Device {
	case noDevice:
		return nil
	case multiDevice:
		return c.OldDevs
	}
	return []DeviceCount{{Device: c.Old.Device, Count: c.Old.Accels}}
}

// OpenEnd is the End of an allocation that has not ended.
const OpenEnd = openEnd
