// Package harness is the testing.TB layer of rsguard's e2e tests (DESIGN.md "Test tiers", tier 3)
// over package lab, which does the work: loopback addresses 127.0.0.N (N >= 2) leased across
// processes, real mongod-compatible processes, real sockets, real signals, iptables partitions
// on lo. Never netns, never a non-loopback address. Here helpers fail or skip the test instead
// of returning errors, clean up with t.Cleanup, and hand out driver clients (Host.Client,
// Cluster.MajorityClient); lab's own clients go through mongo/.
//
// # Binaries
//
// BuildOnce(t) builds ./cmd/mongoemu (and ./cmd/supervisor once it exists) into a temp dir shared
// by the test binary; harness.Main(m) in TestMain removes it. $RSGUARD_MONGOD=/path/to/mongod
// runs a real mongod instead, with the same flags (--port --bind_ip --dbpath --logpath
// --logappend --nounixsocket --replSet [--oplogSizeMB] --setParameter enableTestCommands=1);
// a file name starting with "mongoemu" there is taken as a prebuilt emulator.
// $RSGUARD_SUPERVISOR names a prebuilt supervisor. While ./cmd/mongoemu does not exist and no
// RSGUARD_MONGOD is set, tests that need binaries skip.
//
// Emulator-only features: Options.ExtraParams named mongoemu* (dropped with a log line for a real
// mongod), and the mongoemuDiskStall fail point behind Host.DiskStall: with a real mongod,
// DiskStall uses fsyncLock/fsyncUnlock instead (writes block, reads and hello keep working, as
// with the fail point). Everything else works against both.
//
// # Hosts and clusters
//
//	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: bson.D{{Key: "electionTimeoutMillis", Value: 1000}}})
//	p := c.WaitPrimary(t, 30*time.Second)
//	p.Kill()                              // SIGKILL; also Stop (SIGTERM+wait), Freeze/Thaw (SIGSTOP/SIGCONT)
//	c.WaitPrimary(t, 30*time.Second, p)   // a primary other than p
//	p.Start(ctx)                          // same dbpath and port; WipeDBPath first for a fresh member
//	c.WaitState(t, p, "SECONDARY", 30*time.Second)
//
// NewCluster leases a block of addresses (an flock per address under $TMPDIR/rsguard-e2e/locks,
// so concurrently running test binaries never share one), gives each host port 27017 when free
// (else a free ephemeral port), starts the mongods, runs replSetInitiate (arbiters last, with
// arbiterOnly) and waits for a primary and every member healthy. Options.Settings overrides the
// config's settings; nil keeps mongod's defaults. Helpers: Primary (hello on every member, newest
// electionId wins), WaitPrimary, WaitState, Status, State, Members, Healthy/WaitHealthy,
// MajorityClient (replica-set URI, w:majority, retryable writes), Host.Client (direct), Hosts,
// DataHosts, Others, ByAddr, DialFrom.
//
// Lagging secondaries with a healthy primary: Cluster.LagSecondaries(ctx, on, hosts...) and
// Host.StopApplying turn mongod's rsSyncApplyStop fail point on or off (the applier stops, the
// fetcher keeps fetching); with no hosts LagSecondaries takes every data host that is not the
// writable primary. Host.SetStartupParameter changes one host's --setParameter for its next
// Start, e.g. failpoint.rsSyncApplyStop={"mode":"alwaysOn"} to hold a restarted member in
// RECOVERING. Both use real mongod names and work against both servers.
//
// # Process hygiene
//
// Each process runs in its own process group, with a parent-death SIGKILL, and (as root with
// cgroup v2) in its host's cgroup <cgroup2>/rsguard-e2e/127.0.0.N. At test end everything is
// SIGKILLed (also when the test failed or was frozen) and the cgroup emptied and removed; a
// leftover from a crashed run is killed when the address is next leased. Stdout and stderr go to
// files in the host's dir under t.TempDir(); when a test fails, the last 40 lines of every host's
// mongod log and stderr and the cluster's Timeline are logged.
//
// # Partitions
//
// NewFirewall(t) skips the test (with the reason) unless root, iptables and cgroup v2 with the
// xt_cgroup match are available. It owns the filter chain RSGUARD-E2E, jumped to from INPUT -i lo
// and OUTPUT -o lo, flushed and deleted at creation (a dead run's leftovers) and at test end, and
// always called with -w. A file lock makes partition tests take turns across test binaries.
// Cut(a, b) drops both directions, TCP and UDP, by address pair and, because mongod dials its
// peers from 127.0.0.1 rather than its bind address, by the sender's host cgroup. The test
// process belongs to no host, so its clients keep seeing every member; start sidecars with
// Host.StartSidecar so they share their host's fate.
//
// # Security
//
// Options.Security runs the set as production sets run: --keyFile (a random key written 0400),
// --tlsMode requireTLS with a CA and a certificate for every 127.0.0.N made in the test
// (mongoemu/testcerts), and a root user created through the localhost exception right after
// initiate (written with w: all members). From then on Host.ClientOptions, Host.Command and
// MajorityClient log in as root over TLS, except on arbiters, which hold no users and are
// reached through the localhost exception as on mongod. UserClientOptions logs in as another
// user; Host.SetKeyFile restarts a member with another key (a member that must be refused).
// The flags are mongod's, so the same tests run with RSGUARD_MONGOD pointing at a real mongod.
//
// # Timeline
//
// Cluster.Timeline records harness actions (starts, signals, stalls, cuts) and whatever a test
// marks; Zero marks the fault, and Report prints offsets from it ("+11.204s new primary ...") for
// drill reports.
//
// Wait with WaitFor/Poll (deadline polling), never with fixed sleeps; call the helpers taking a
// testing.TB from the test goroutine.
package harness
