// Package storage is mongoemu's durable storage engine: one bbolt file per dbpath holding the
// catalog, the documents of every collection keyed by _id, the oplog (local.oplog.rs, keyed by ts)
// and a small metadata store for the replication layer (replica-set config, term and last vote,
// rollback id, minValid, initial-sync flag; docs/mongod-spec.md §7.7, §7.8).
//
// # Transactions
//
// Everything happens inside Store.Update, Store.Batch or Store.View. A document write and the oplog
// entry that describes it go into the same write transaction, so they are durable together or not
// at all: after any crash the oplog never names a write the collections lack, and startup recovery
// (§7.8) needs no oplog-hole truncation. Batch groups concurrent writers into one bbolt commit
// (group commit, leader/follower with no timer: a lone writer commits at once, the group grows
// with the load); its function may run more than once and must only touch the Tx it is given.
//
// # Durability model
//
// bbolt writes every committed page with pwrite(2) and then the meta page; with Options.
// NoSyncEachCommit it skips the fdatasync(2) that normally follows. A pwrite()n page lives in the
// kernel's page cache, which outlives the process: a kill -9 (SIGKILL, OOM kill, panic) loses no
// committed transaction, because the kernel writes the pages back on its own. Only an operating
// system crash or power loss can lose the commits since the last fsync. That is the same window
// mongod's journal has: an unacknowledged-by-journal w:1 write can vanish on power loss, and
// j:true / w:"majority" (with writeConcernMajorityJournalDefault) waits for the journal.
//
// So, with NoSyncEachCommit:
//   - every commit survives SIGKILL (TestSIGKILLDurability re-execs the test binary, kills it with
//     SIGKILL mid-stream and checks every acknowledged write on reopen);
//   - a background goroutine owned by the Store calls fdatasync every JournalCommitInterval
//     (default 100 ms, mongod's storage.journal.commitIntervalMs) when something was committed;
//   - callers needing j:true call Store.Sync after their commit and before acknowledging.
//
// Without NoSyncEachCommit (the zero value, the cautious default) every commit is fdatasync'd
// before Update returns; Batch then amortises that fsync over concurrent writers.
//
// # Locking the dbpath
//
// Like mongod, Open writes its pid to <dbpath>/mongod.lock and holds an exclusive flock(2) on it
// for the life of the Store. flock locks belong to the open file description, so a second Open of
// the same dbpath fails even from the same process, with no process-wide registry. The kernel
// drops the lock when the process dies, so a SIGKILLed member restarts without manual cleanup.
//
// # Resync
//
// There is no Wipe: a too-stale member is resynced (§7.5) by stopping it, deleting the dbpath from
// outside and starting it again, exactly as an operator does with mongod.
package storage
