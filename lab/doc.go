// Package lab runs local replica sets on loopback addresses 127.0.0.N (N >= 2) for the demo,
// drills and the e2e tests (DESIGN.md layer L3 and "Test tiers"): address leases, binaries
// (mongod or mongoemu), processes, host cgroups, the iptables firewall, hosts and clusters,
// sidecar configs. It never uses netns or a non-loopback address, does not import testing, and
// reaches MongoDB through mongo/ like the rest of rsguard.
//
// Everything started is owned by a value with an idempotent Close: a Lease releases addresses,
// a Proc kills its process group, a Host kills its processes and empties its cgroup, a Cluster
// closes its hosts and its lease, a Firewall flushes and deletes its chain.
//
// # Addresses
//
// LeaseBlock leases consecutive addresses with an flock per address in one lock directory
// (LockDir, $TMPDIR/rsguard-e2e/locks), so the demo, drills and concurrently running test binaries
// never share one; the kernel drops a lease when its holder dies.
//
// # Binaries
//
// FindBinaries: $RSGUARD_MONGOD names a real mongod (a file name starting with "mongoemu" is a
// prebuilt emulator: IsEmulator); otherwise mongoemu beside the running executable or on PATH
// (BinOptions.LookBeside), otherwise ./cmd/mongoemu built from the module root (ModuleRoot).
// $RSGUARD_SUPERVISOR names a prebuilt supervisor, otherwise ./cmd/supervisor is built.
// The same mongod flags work on both servers (--port --bind_ip --dbpath --logpath --logappend
// --nounixsocket --replSet [--oplogSizeMB] --setParameter ...); emulator-only features are
// Options.ExtraParams named mongoemu* and the mongoemuDiskStall fail point behind DiskStall
// (fsyncLock/fsyncUnlock on a real mongod).
//
// # Processes and hosts
//
// A Proc runs in its own process group with a parent-death SIGKILL and, as root with cgroup v2,
// in its host's cgroup <cgroup2>/rsguard-e2e/127.0.0.N; a leftover from a crashed run is killed
// when the address is next taken. A Host is one address with its mongod (started by the lab, or
// by its sidecar: HostOptions.External) and sidecars (Spawn, StartSidecar): Start, Stop, Kill,
// Freeze/Thaw (SIGSTOP/SIGCONT, waiting until every thread stopped), Restart, WipeDBPath,
// DiskStall, StopApplying, SetStartupParameter, SetKeyFile, LogTail, Command and Hello.
//
// # Clusters
//
// NewCluster leases a block, starts the mongods, runs replSetInitiate (arbiters last) through
// the first host's mongo/ client, waits for a primary and every member healthy and, with
// Options.Security, creates a root user through the localhost exception (key file, TLS with
// certificates from mongoemu/testcerts). Primary, WaitPrimary, WaitState, Healthy, WaitHealthy,
// Members, LagSecondaries observe and steer it; Timeline records what happened when.
//
// # Partitions
//
// NewFirewall needs root, iptables and cgroup v2 with the xt_cgroup match, and says which is
// missing (ErrFirewallUnavailable). It owns the filter chain RSGUARD-E2E, jumped to from INPUT -i
// lo and OUTPUT -o lo, flushed and deleted at creation and at Close, under a machine-wide file
// lock. Cut(a, b) drops both directions by address pair and by the sender's host cgroup (mongod
// dials its peers from 127.0.0.1).
//
// # Sidecars
//
// SidecarSet lays out rsguard sidecars beside a set's hosts, writes their config files (one
// writer for the demo and the tests), starts them on their hosts and talks to them through
// apiclient.
//
// Wait with Poll (deadline polling), never with fixed sleeps.
package lab
