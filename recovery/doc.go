// Package recovery brings a former primary (or any member) back after a failover: it classifies
// what the member is going through, and (in later steps of the recovery issue) plans and executes
// idempotent, resumable steps through a process controller: archive rollback files, resync a
// member that is too stale, re-add a member a force reconfig removed.
//
// Classify is pure, like the election core (DESIGN.md principle 5): an Observation of one member
// (what its sidecar sees of the process, of mongod and of the dbpath), Options and the time in;
// a Status with a typed Kind, the remedy it calls for and the evidence out. The references are
// ../shared/docs/mongod-spec.md §7.5 (too stale), §7.6 (initial sync), §7.7 (rollback) and §7.8
// (startup recovery).
package recovery
