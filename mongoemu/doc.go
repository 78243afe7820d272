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
//     TestDieBySignalAborts, e2e TestReplSetRSTLFsyncLockedPrimary//
//
// Elections and catch-up (mongod 7.0 source → emulator file → test):
//   - catch-up: heartbeats restarted on winning; the target is known once every member answered
//     since the restart or was marked down (retries exhausted, or heartbeatTimeoutSecs since the
//     last good heartbeat, a request getting only what is left of it); arbiters count for
//     freshness, not for the target; catchUpTimeoutMillis -1 unlimited, 0 none
//     (topology_coordinator.cpp latestKnownOpTimeSinceHeartbeatRestart, member_data.cpp,
//     replication_coordinator_impl.cpp CatchupState) → repl_catchup.go, repl_heartbeat.go →
//     TestCatchUpHeldUntilHungMemberMarkedDown, TestCatchUpTimeoutEndsCatchUp,
//     TestCatchUpTimeoutZeroSkipsCatchUp, TestCatchUpFetchesToTheTarget,
//     e2e TestReplSetStepUpWithFrozenPrimaryWaitsForCatchUp
//   - replSetStepUp answers once PRIMARY, before catch-up and drain; hello not writable in both
//     (stepUpIfEligible, fillHelloForReplSet) → repl_election.go, repl_commands.go →
//     TestStepUpAnswersInCatchUpAndAbortEndsIt
//   - CannotSeeMajority, the dry run in the current term, the priority-takeover offset, liveness
//     from heartbeats received, catch-up takeover after catchUpTakeoverDelayMillis
//     (topology_coordinator.cpp _getMyUnelectableReason, vote_requester.cpp,
//     _getElectionOffsetUpperBound, checkMemberTimeouts, _shouldTakeOverPrimary) →
//     repl_election.go, repl_vote.go, repl_takeover.go → TestCannotSeeMajorityRefusesStepUp,
//     TestDryRunCarriesCurrentTerm, TestPriorityTakeoverHasRandomOffset,
//     TestHeartbeatsReceivedCountAsLiveness, TestCatchUpTakeover
//
// Replication, restart, write concern, shutdown:
//   - rsSyncApplyStop (the applier stops, the fetcher fills its buffer; a primary-elect stays in
//     drain), stopReplProducer (no fetching), startup fail points failpoint.<name>
//     (oplog_applier_impl.cpp, bgsync.cpp, oplog_fetcher.cpp) → repl_applier.go, repl_fetch.go,
//     repl_sync.go, failpoints.go → TestRsSyncApplyStop, TestRsSyncApplyStopHoldsDrain,
//     TestStopReplProducer, TestSetParameterFailPoint, e2e TestReplSetLagSecondaries
//   - failCommand as commands.cpp activates and validates it → failpoints.go →
//     TestFailCommandAsMongod
//   - restart after an unclean shutdown: rollback ID + 1 (501401), STARTUP until the config is
//     installed, then STARTUP2, RECOVERING, SECONDARY once minValid is reached
//     (replication_coordinator_impl.cpp, replication_recovery.cpp) → repl_startup.go,
//     repl_coord.go, storage/lock.go → TestRestartAfterUncleanShutdown,
//     TestStartupHidesConfigUntilInstalled, e2e TestReplSetCrashRestart
//   - implicit default write concern and get/setDefaultRWConcern (repl_set_config.cpp,
//     read_write_concern_defaults.cpp, write_concern.cpp) → rwc_defaults.go,
//     cmd_rwc_defaults.go, writeconcern.go → TestImplicitDefaultWCFormula,
//     TestDefaultWriteConcernMajority, TestSetDefaultRWConcernValidation,
//     TestReconfigRefusesImplicitDefaultWCChange
//   - shutdown quiesce: listeners stay open, hello answers ShutdownInProgress (91) with
//     remainingQuiesceTimeMillis (db.cpp, replication_info.cpp) → shutdown.go, hello.go →
//     TestQuiesceKeepsListenerOpen
//
// readConcern (mongod 7.0 source → emulator file → test):
//   - parsing: codes and messages of ReadConcernArgs::parse (FailedToParse for a bad level or a
//     non-object, TypeMismatch, InvalidOptions for unknown fields and bad combinations), and the
//     per-command support check (find/aggregate/distinct: every level; count: not snapshot;
//     getMore: its cursor's; every other command, writes included: local only, InvalidOptions)
//     (repl/read_concern_args.cpp, service_entry_point_common.cpp, count_cmd.cpp) →
//     readconcern.go → TestReadConcernBadInput
//   - majority: reads the majority-committed snapshot, min(commit point, lastApplied), waiting
//     until one exists; storage keeps in memory the values documents had before writes past the
//     commit point, so find, count, distinct and aggregate see that snapshot; a getMore reads the
//     snapshot current then (read_concern_mongod.cpp kMajorityCommitted,
//     replication_coordinator_impl.cpp _updateCommittedSnapshot) → readconcern_wait.go,
//     storage/versions.go → TestReadConcernMajorityHidesUncommittedWrites,
//     TestVersionsReadTheCommittedSnapshot
//   - linearizable: primary only (NotWritablePrimary 10107 otherwise, FailedToParse with
//     afterOpTime); after the read a {msg: "linearizable read"} no-op must be majority committed,
//     with no timeout but maxTimeMS; a stepdown ends it (waitForLinearizableReadConcernImpl) →
//     readconcern_wait.go → TestReadConcernLinearizable
//   - afterClusterTime / afterOpTime: InvalidOptions beyond the cluster time (the request's
//     $clusterTime gossip counts); majority waits for the committed snapshot, local for
//     lastApplied (_waitUntilClusterTimeForRead, _waitUntilOpTime) → TestReadConcernAfterClusterTime
//   - snapshot outside a transaction: reads the current committed snapshot, SnapshotUnavailable
//     without one; atClusterTime is refused (SnapshotUnavailable): no history is kept below the
//     commit point. After a restart, rollback or initial sync no majority snapshot exists until
//     the commit point passes the node's data (stricter than mongod's recovered stable
//     timestamp); collection creates and drops are not versioned.
//   - operationTime: a write's own optime, a majority or snapshot read's snapshot, else the
//     newest optime (service_entry_point_common.cpp computeOperationTime) → reply.go →
//     TestReadConcernMajorityHidesUncommittedWrites
//
// Authentication, authorization and TLS: see auth_doc.go.
//
// Not emulated (yet): the coordinator is not a pure core on a fake clock (TopologyCoordinator
// vs ReplicationCoordinatorImpl); user-defined roles; the parallel batch writer lock; readConcern
// atClusterTime; the atClusterTime field of snapshot read replies.
package mongoemu
