// Package mongoemu is a MongoDB 7.0 replica-set member emulator speaking the real wire protocol.
//
// It exists because no mongod can be installed on rsguard's build machines. It is not a mock:
// nodes keep durable data in their dbpath, answer the official driver exactly as mongod would
// (docs/mongod-spec.md §1, §2, §6), and — in replica-set mode — elect, replicate and roll back on
// their own over the wire protocol (§3-§7). The supervisor must never be able to tell it from a
// real mongod for anything it touches.
//
// Layout: node.go owns the process-level state; conn.go the per-connection loop; dispatch.go the
// command table; reply.go the reply envelope; hello.go and topology.go the hello/topologyVersion
// machinery; cmd_*.go the commands; repl_*.go the replication coordinator.
//
// Locks and state transitions (mongod 7.0 source → emulator file → test):
//   - lock modes, FIFO queue, compatibleFirst (concurrency/lock_manager.cpp, locker_impl.cpp)
//     → lockmgr.go → lockmgr_test.go
//   - writes take the RSTL then the global lock in IX; fsyncLock and the blocking disk stall hold
//     the global lock in S (d_concurrency.cpp, commands/fsync.cpp) → rstl.go, stall.go →
//     TestGlobalHoldBlocksWritersNotReaders
//   - AutoGetRstlForStepUpStepDown: deadline (force ? stepdown period : secondaryCatchUpPeriodSecs),
//     LockTimeout (24), the fassertOnLockTimeoutForStepUpDown cap, 5675600 and abort
//     (replication_coordinator_impl.cpp) → repl_rstl.go, repl_stepdown.go, abort.go →
//     TestRSTLStepDownOfFsyncLockedPrimaryTimesOut, TestRSTLCapAbortsTheNode
//   - the kill-op step: 11602 for operations that took the global lock in IX/S/X or hold their
//     session, write-concern waiters included (_killConflictingOpsOnStepUpAndStepDown,
//     kill_sessions_local.cpp) → ops.go → TestRSTLNewTermKillsRetryableWriteThenAborts,
//     TestRSTLStepDownInterruptsWriteConcernWaiters
//   - abort(): nothing answers any more, SIGABRT (util/assert_util.cpp,
//     signal_handlers_synchronous.cpp) → abort.go, cmd/mongoemu/abort_linux.go →
//     TestDieBySignalAborts, e2e TestReplSetRSTLFsyncLockedPrimary
package mongoemu
