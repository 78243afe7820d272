// Package drill rehearses failures on a replica set guarded by rsguard and measures what an
// application saw (DESIGN.md L3): scenarios (kill-primary, freeze-primary, ...), the workloads
// that run through them (w:"majority" writers, w:1 writers, readers, every operation recorded),
// the measurements computed from those records (detection, decision, time to a writable primary,
// the write-unavailable window, acknowledged writes lost, documents rolled back, the former
// primary's recovery, the audit trail) and the reports (terminal table, JSON, HTML).
//
// A scenario acts on a Target: the set, its sidecars (through apiclient) and the faults it can
// inject. The local target (package lab) can do everything; the remote target (NewRemote)
// only what MongoDB's commands allow on a set it does not own, and says which faults it cannot
// inject (ErrUnsupported).
//
// Measurements are pure functions of the recorded data (Measure), so they are tested with
// synthetic records; times in a Result are offsets from the fault.
package drill
