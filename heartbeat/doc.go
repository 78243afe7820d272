// Package heartbeat is the sidecars' gossip layer (DESIGN.md L1) and the only package that
// imports hashicorp/memberlist. Each sidecar gossips its topology.MemberView (its mongod's
// reachability and how it failed, state, term, optime, config version, write-probe results, the
// primary it sees); every sidecar ends up holding the latest view of every other one, with its age,
// plus memberlist's membership verdict. The election core decides on that (topology.Snapshot).
//
// Like alertmanager's cluster package it wraps memberlist whole, behind New / Start / Settled /
// Shutdown, and has a settle period: right after start a sidecar knows nobody, and "nobody answers"
// must not read as "everybody is dead".
//
// # How views travel
//
//   - Push: every PushInterval (500ms) each sidecar sends its view straight to every alive member
//     as one memberlist user packet (SendBestEffort; SendReliable above 48 KiB). PushNow sends at
//     once, for changes that matter (calls coalesce: one pending push at most, so a burst of
//     changes cannot flood). Every send carries (generation, sequence): even an unchanged
//     view is a heartbeat, so a view's age is "time since its sidecar was last heard".
//   - Relay: a sidecar whose link to X is cut stops getting X's pushes, but others still do. Each
//     push carries the sender's direct ages (how long since it last heard each peer directly); a
//     sidecar that hears both sides forwards X's view to P when P reports no direct copy of X for
//     2.5 push intervals while its own copy is younger than 2. Ages travel as durations and add
//     up along relays, so clocks need not agree. With all links up nothing is relayed.
//   - Push-pull: memberlist's TCP state exchange, at join and every 10s, carries all views held.
//     A joining sidecar learns everything at once; it is also anti-entropy.
//
// Updates signals the receiving side: one pending signal whenever a view with new content
// arrives by any path (a fresh copy of the same view, the steady heartbeat, is not news), so a
// consumer reacts to a peer's report at once instead of polling.
//
// Semantics the election relies on: ViewWithAge.Age is the age of the freshest copy received by
// any path (direct, relayed, push-pull), by this sidecar's clock; more copies of one version never
// make it look younger. ViewWithAge.Alive is memberlist's verdict (alive or suspect; memberlist
// does not expose suspect). PeerViews adds whether the freshest copy came directly, from whom,
// and the age of the last direct copy. Relaying is deliberate: "does a majority see the primary"
// asks what each sidecar observed, and a view is that sidecar's own testimony whichever path
// brought it, while a dead or isolated sidecar's views age out on every path alike (nobody has a
// fresh copy to relay). Staleness, not memberlist death, is the fast signal: with 500ms pushes a
// view older than ~1.5s means three heartbeats missed, seconds before memberlist declares death.
//
// # memberlist timings (DefaultLANConfig, tuned)
//
//   - ProbeInterval 500ms, ProbeTimeout 250ms: loopback and LAN round trips are far below a
//     millisecond; half an interval leaves room for a loaded host, and Lifeguard's awareness
//     stretches both when this sidecar itself is slow.
//   - SuspicionMult 3, SuspicionMaxTimeoutMult 2: the suspicion timeout is 3 probe intervals
//     (1.5s for fewer than 10 members) once one other sidecar confirms, up to 3s unconfirmed.
//     A crashed or cut-off sidecar is declared dead about 2.5-4s after it stops answering (the
//     synctest fault tests see 2.3-3s): a few seconds, while refutation (gossip every 200ms) still
//     has ample time to save a sidecar that was only slow.
//   - GossipInterval 200ms, GossipNodes 3 (the LAN defaults): suspect/alive/dead news spreads in
//     a few hundred milliseconds. Views do not ride on it.
//   - PushPullInterval 10s (default 30s): anti-entropy is cheap with a handful of members.
//   - TCPTimeout 2s (default 10s): joins, push-pulls and fallback pings towards a peer behind a
//     DROP rule give up quickly instead of stalling the join loop.
//   - GossipToTheDeadTime 30s (default) plus the join loop: every second (backing off per target
//     to 5s while failing) a sidecar joins the seeds no alive member advertises (all of them while
//     alone) and the members declared dead. The two sides of a partition thus merge again however
//     long it lasted, and a member that a start-up race hid from one sidecar (memberlist's
//     epidemic can miss one) is found within a second instead of at the next push-pull. Seeds
//     should therefore be every configured sidecar, as ip:port.
//   - DeadNodeReclaimTime 5s: a sidecar restarted on another address may reclaim its name.
//
// At rest a sidecar sends 2 pushes per second to each peer plus 2 probes per second and a
// push-pull every 10s: tens of small packets per second for a five-member set. Five sidecars on
// real loopback sockets in one process used 0.35% of a core each over 30s.
//
// # Other rules
//
// Gossip binds and advertises exactly the configured addresses (127.0.0.N:port in e2e), TCP and
// UDP on one port. Encryption uses a memberlist keyring: the first key sends, all keys are
// accepted (rotation); a sidecar without a matching key cannot join. New refuses an empty keyring
// unless Options.Insecure says so. Each view also carries a MAC keyed from the keyring, made by
// its origin and relayed unchanged, and views whose origin or sender is not in Options.Members
// are dropped (auth.go says what the MAC proves and what it does not). Options.Label separates
// clusters that share addresses. Start never fails because seeds are unreachable: it logs, counts
// rsguard_heartbeat_seed_join_failures_total and keeps trying; a lone sidecar runs but never
// settles and never holds a quorum.
//
// Tests run whole clusters on heartbeat/memnet inside testing/synctest: fake time, no sockets,
// Kill/Cut/Heal faults. Fake time stops when a bubble's main goroutine returns, so tests sleep a
// few fake seconds after Shutdown to let memberlist's in-flight probes time out.
package heartbeat
