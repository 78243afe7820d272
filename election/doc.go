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
// # Who executes: every sidecar decides, the addressed executor acts
//
// Each Action names its executor (Action.Executor, rules in executor.go): the target's own
// sidecar when it is visible and ready, which then talks to its local mongod only; else a
// sidecar holding credentials for the other members, the coordinator first. Every sidecar runs
// Decide on its own snapshot, and the one that finds itself the executor acts at once. The
// alternative, the coordinator deciding and its order reaching the executor by gossip, costs a
// gossip push (up to 500 ms) on the path from a dead primary to a writable one, which is most of
// the 0.6 s budget. What it would buy, one decision instead of several, is judged here:
//
//   - Duplicate execution. Two sidecars can both find themselves executor of a step-up when
//     their views differ (the candidate's own sidecar sees itself; a peer that lost sight of it
//     falls back to the coordinator), or two candidates' sidecars can each rank their own member
//     best from views of different ages. MongoDB absorbs both: replSetStepUp runs a dry-run
//     election first, voters refuse a candidate staler than themselves and grant at most one
//     vote per term, so at most one primary per term wins (spec §5.3, §6.3); a second stepUp on
//     a primary fails harmlessly. Duplicate Freeze, StepDown and AbortCatchUp are idempotent or
//     fail harmlessly on a member no longer in that state (spec §6.1, §6.2, §6.8).
//   - Fencing. A duplicate fence must be impossible, so a fence has exactly one possible
//     executor: the fenced host's own sidecar, never a fallback. That sidecar dedupes its own
//     attempts in State.Pending (one shutdown per incident and pending window), and the
//     supervisor runs one copy of an action at a time.
//   - View skew. A sidecar acts only when its own snapshot holds a quorum of fresh views, so the
//     minority side of a partition never acts; the executor's decision is made on the freshest
//     view of its own member there is. Every sidecar records the action as pending whoever
//     executes it, and a pending action blocks its re-issue by any executor until its deadline,
//     so an executor change between ticks (the own sidecar drops out of sight) does not send it
//     twice within the pending timeout.
//
// Every sidecar whose decision passes the gates records Pending and LastFailover, executor or
// not, so the anti-flap memory and the catch-up and freeze rules that read it see the same
// history on every sidecar that saw the incident; the others report refused_not_executor.
package election
