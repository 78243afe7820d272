// Package election is rsguard's pure decision core: Classify turns a topology.Snapshot into one
// Analysis from a closed list of failure classes, Rank orders step-up candidates, and Decide
// returns the Decision to execute plus the next State.
//
// Like etcd's raft, it does no I/O and never reads the clock: the supervisor loop passes the
// snapshot, the policy, the previous State and the time in, and executes what comes back
// (DESIGN.md principle 4). Every decision and every refusal carries a typed Reason (principle 3),
// and nothing is ever concluded from one sidecar's observation alone (principle 2).
//
// Safety stays with MongoDB (principle 1): the actions are requests (replSetStepUp,
// replSetStepDown, replSetFreeze) that MongoDB's pv1 election accepts or refuses; fencing stops
// only a primary that a newer term has already superseded.
//
// The mongods' own heartbeats count as evidence (veto.go): the sidecars losing the primary while a
// majority of the voting mongods still exchange fresh heartbeats with it is not a lost primary.
// And a term that began within Policy.ElectionQuiet holds rsguard back (ElectionQuietPeriod)
// even when nobody is electing, because MongoDB's own election may still be settling.
//
// Tests: classify and rank tables, single-snapshot scenario files (testdata/*.json), and
// multi-sidecar scripts (testdata/multi, multi_test.go) where several sidecars each decide from
// the views they can see, on a fake clock, with the production defaults (DefaultPolicy, which
// config.Default is built from).
package election
