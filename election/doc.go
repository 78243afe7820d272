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
package election
