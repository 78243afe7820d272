// Package supervisor is rsguard's embeddable runtime (DESIGN.md L3): New(Options) wires the
// config onto the gossip layer, the mongod connections, the metrics and the audit log; Run(ctx)
// owns the loop observe -> snapshot -> Decide -> execute until ctx ends. cmd/supervisor is a
// thin main around it, and api serves its Status, Ready and Acknowledge over HTTP.
//
// # Loops
//
//   - observe (data mode), every probe.interval: hello, replSetGetStatus and replSetGetConfig on
//     the local mongod (mongo.Observe) within probe.timeout. "Connection refused" marks it
//     unreachable at once (first-hand proof the process is gone); a timeout or other transport
//     failure needs a long silence: probe.failures_before_unreachable in a row over at least
//     probe.unreachable_after (silence.go), so that a network blip is ridden out.
//   - peers, every probe.interval (a round never waits for a peer that times out): a hello within probe.timeout to every configured member's
//     mongod and every member the hello replies name (arbiters included), by the same rule. It
//     sets PeerSeen.Healthy and PrimarySeen.Reachable: what THIS sidecar reaches, merged with
//     what its mongod's replSetGetStatus says (state, optime). A quorum can then tell "dead"
//     from "unreachable from me only".
//   - write probe, every probe.write_probe_interval: a w:"majority" upsert into rsguard.probe on
//     the current primary (the local mongod's belief, else the newest-term primary of the
//     gossiped views) within write_probe_timeout, in its own goroutine: while one is outstanding
//     no other is sent, and outstanding longer than sick_write_latency counts as failing. A
//     second probe, w:1 j:true on its own document, runs beside it by the same rules
//     (MemberView.JournalProbe): only it can make the sidecar a witness of a sick primary; a
//     w:"majority" probe in trouble while it is fine is replication lag (election/lagging.go).
//   - gossip: every change of the own view is handed to heartbeat (SetLocalView), and a change of
//     reachability or state is pushed at once (PushNow).
//   - local watch (data mode, localwatch.go): an idle TCP connection to the local mongod. When
//     it ends (the process died: EOF or reset) the port is looked at at once, a few times over
//     ~300ms; only "refused" counts, as in the observe rule, so a blip or a listener restart
//     changes nothing. A crash is gossiped within milliseconds instead of at the next tick.
//   - topology watch (data mode, topowatch.go): an awaitable hello (topologyVersion,
//     maxAwaitTimeMS 10s) outstanding on the local mongod; when the counter moves (an election
//     won, catch-up or drain over, a stepdown) the local mongod is observed at once, so a
//     primary-elect's catch-up is gossiped right after replSetStepUp, not at the next tick.
//   - reaction (react.go): a view arriving from gossip (heartbeat Updates) in which another
//     sidecar reports its mongod refused, or the primary lost, makes this sidecar look at that
//     host at once (a TCP look for refused, a hello for lost) instead of at its next round: its
//     own first-hand check, so one report is a reason to look, never a vote.
//   - decide, every probe.interval, at once on an own material change, on a membership event,
//     on a view with news from gossip, and when a 200ms watch sees a material change in another
//     sidecar's view (a view growing stale, which no message announces): a
//     topology.Snapshot (configured members, gossiped views with ages, view_max_age) goes through
//     election.Decide and the result is executed, recorded, counted and audited.
//
// # Acting
//
// A sidecar executes only the actions the core addresses to it (Action.Executor,
// election/executor.go): the target member's own sidecar sends replSetStepUp, replSetStepDown,
// replSetFreeze and replSetAbortPrimaryCatchUp to its local mongod; another sidecar with
// credentials (any data sidecar; an arbiter sidecar only with a credentials section) only when
// that one is out of sight. A fence is executed only by the sidecar beside the mongod to stop:
// it runs shutdown {force: true} with a short deadline (spec §6.9). Credentials and TLS come from
// config.MemberAccess for the local mongod and every other member alike. A peer that has never
// answered and ends our handshake (TLS required, login refused) gets no reachability opinion
// rather than a false "unreachable". A process-controller fence (kill, systemd) that keeps the
// mongod down comes with the recovery work. Actions run in their own goroutine with a deadline; the outcome
// feeds back into the election state (a failed action may be retried after 3 probe intervals
// rather than the whole pending timeout). Dry run and a disabled policy never execute; their
// decisions are still counted, reported and audited.
//
// # Readiness
//
// A sidecar is ready once gossip has settled and, in data mode, its mongod has answered and
// belongs to the configured set under the configured host name. Until then (and whenever that
// stops being true: wrong set name, not a replica-set member, never initiated, REMOVED, refused
// credentials) it keeps running, gossiping and reporting, says why in Status, the log and
// /readyz, and never acts. A mongod of another set is not gossiped as the local view.
//
// # Audit log
//
// JSON lines appended to audit_log (fsync per line): every action executed with its result and
// duration, every acknowledgement, and every refusal whose (analysis, reason) pair differs from
// the previous one. Every decision is counted in rsguard_supervisor_decisions_total.
//
// # State
//
// The election state's durable part, the set's shared memory (failovers, acknowledgement,
// freezes, pause, actions in flight, incidents; see the election package doc), is kept in
// state_dir/supervisor-state.json so that it survives a restart, and gossiped in every view so
// that it survives a coordinator change (supervisor/memory.go): each sidecar merges every
// configured peer's copy into its own. An acknowledgement, a pause or a resume given to any
// sidecar reaches all of them.
// The election state's durable part (last failover, acknowledgement) is kept in
// state_dir/supervisor-state.json so that the anti-flap block survives a restart. It is per
// sidecar, and every sidecar whose decision passed the gates records the failover, executor or
// not: acknowledge on all of them.
package supervisor
