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
// # One memory for the set
//
// What the sidecars must agree on after the fact lives in topology.Memory, carried in State:
// the failovers (incident -> at, to, by, reason), the operator's acknowledgement, freezes (host ->
// until), the pause, the actions in flight (addressed action, incident, deadline) and the
// incidents, keyed by the primary's host and its own term (the electionId term it reported as
// primary, spec §5.4: a stalled primary that learns a newer term is still the same incident).
// Decide reads it for the anti-flap window, the pending gate, Rank's frozen exclusion, freezeFormer
// and the pause (refused_paused), and writes into the State it returns what it issued.
//
// The choice: mergeable records carried by gossip and persisted, not the replica set as a store
// and never a consensus of our own (DESIGN.md principle 3). Each record kind is a join
// semilattice (MergeMemory: commutative, associative, idempotent, checked with testing/quick),
// so every sidecar merges every view it receives into its copy, whatever the order, duplication
// or delay, persists it in state_dir when it changes and gossips it in its MemberView. The replica
// set as a store was rejected because the memory matters most exactly when the set has no
// primary or is being failed over, and writing it would compete with the workload for the new
// primary's first writes. Size is bounded by PruneMemory: failovers, incidents and the
// acknowledgement are dropped MemoryMargin (10 min) after the anti-flap window, freezes and
// actions MemoryMargin after they end; the pause stays.
//
// Failure cases, and what they cost:
//   - Clock skew between sidecars shifts every time-based record by the skew: a failover recorded
//     by a sidecar whose clock is ahead blocks a little longer elsewhere, one behind a little less;
//     an action in flight may be re-issued a skew early (MongoDB's election absorbs a duplicate
//     replSetStepUp). The margin keeps a skewed peer from pruning what another still needs.
//   - A sidecar partitioned away during a failover learns of it only when it rejoins; until then
//     it is in the minority and cannot act (no quorum), so it cannot fail over a second time.
//     Two coordinators on the two sides of view skew may both act once, as before.
//   - A sidecar restarted with a wiped state_dir starts empty and relearns the memory from the
//     first view of any peer (every peer gossips its whole copy); it is not ready before gossip
//     settles, so it does not act on an empty memory in the meantime.
//   - If every sidecar restarts at once with wiped state_dirs the memory is gone: the anti-flap
//     window, freezes and pause are forgotten, and the next incident may fail over at once. The
//     audit logs still hold the history. Do not wipe every state_dir together.
//   - A coordinator that dies with an action in flight leaves its record behind: the next
//     coordinator re-issues that action for the same incident only after its deadline
//     (pending_timeout) or once its executor marked it failed, never twice at once.
//   - A record is trusted from any configured sidecar: the gossip's authentication (issue 8,
//     deliverable 10) is what keeps a forged one out.
//   - Without its own sidecar visible, the incident of a primary is keyed by the term the others
//     claim for it, so a host-level outage during which observers learn a newer term may still
//     count as a new incident.
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
