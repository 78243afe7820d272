package mongoemu

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// maxIncomingConnections is what mongod reports as current+available on Linux when
// net.maxIncomingConnections is not set (it derives it from RLIMIT_NOFILE; 838860 is the cap).
const maxIncomingConnections = 838860

// cmdServerStatus is serverStatus (spec §6.10). Top-level fields come first in mongod's order,
// then the sections sorted by name, as mongod's section registry emits them. Types are mongod's:
// pid/uptimeMillis/uptimeEstimate and counters are int64, uptime is a double.
func (n *Node) cmdServerStatus(_ context.Context, _ *request) (bson.D, error) {
	now := time.Now()
	up := n.uptime()
	hostname, _ := os.Hostname()
	host := hostname
	if p := n.Port(); p != 27017 {
		host = hostname + ":" + strconv.Itoa(p)
	}
	d := bson.D{
		{Key: "host", Value: host},
		{Key: "version", Value: serverVersion},
		{Key: "process", Value: "mongod"},
		{Key: "pid", Value: int64(os.Getpid())},
		{Key: "uptime", Value: up.Seconds()},
		{Key: "uptimeMillis", Value: up.Milliseconds()},
		{Key: "uptimeEstimate", Value: int64(up / time.Second)},
		{Key: "localTime", Value: bson.DateTime(now.UnixMilli())},
		{Key: "asserts", Value: bson.D{
			{Key: "regular", Value: int32(0)}, {Key: "warning", Value: int32(0)}, {Key: "msg", Value: int32(0)},
			{Key: "user", Value: int32(0)}, {Key: "tripwire", Value: int32(0)}, {Key: "rollovers", Value: int32(0)},
		}},
		{Key: "connections", Value: n.connectionsSection()},
		{Key: "electionMetrics", Value: n.electionMetricsSection()},
		{Key: "extra_info", Value: extraInfoSection()},
		{Key: "mem", Value: memSection()},
		{Key: "metrics", Value: bson.D{
			{Key: "repl", Value: bson.D{{Key: "stateTransition", Value: bson.D{
				{Key: "userOperationsKilled", Value: int64(0)}, {Key: "userOperationsRunning", Value: int64(0)},
			}}}},
		}},
		{Key: "opcounters", Value: bson.D{
			{Key: "insert", Value: n.counters.insert.Load()}, {Key: "query", Value: n.counters.query.Load()},
			{Key: "update", Value: n.counters.update.Load()}, {Key: "delete", Value: n.counters.delete.Load()},
			{Key: "getmore", Value: n.counters.getmore.Load()}, {Key: "command", Value: n.counters.command.Load()},
		}},
		// The emulator's oplog applier does not count per op type; mongod's idle secondary and
		// every primary report zeros here too.
		{Key: "opcountersRepl", Value: bson.D{
			{Key: "insert", Value: int64(0)}, {Key: "query", Value: int64(0)}, {Key: "update", Value: int64(0)},
			{Key: "delete", Value: int64(0)}, {Key: "getmore", Value: int64(0)}, {Key: "command", Value: int64(0)},
		}},
	}
	if n.repl != nil {
		d = append(d, bson.E{Key: "repl", Value: n.replSection()})
	}
	d = append(d,
		bson.E{Key: "storageEngine", Value: bson.D{
			{Key: "name", Value: "wiredTiger"}, {Key: "supportsCommittedReads", Value: true},
			{Key: "oldestRequiredTimestampForCrashRecovery", Value: bson.Timestamp{}},
			{Key: "supportsPendingDrops", Value: true}, {Key: "dropPendingIdents", Value: int64(0)},
			{Key: "supportsSnapshotReadConcern", Value: true}, {Key: "readOnly", Value: false},
			{Key: "persistent", Value: true}, {Key: "backupCursorOpen", Value: false},
		}},
		bson.E{Key: "transactions", Value: bson.D{
			{Key: "retriedCommandsCount", Value: int64(0)}, {Key: "retriedStatementsCount", Value: int64(0)},
			{Key: "transactionsCollectionWriteCount", Value: int64(0)}, {Key: "currentActive", Value: int64(0)},
			{Key: "currentInactive", Value: int64(0)}, {Key: "currentOpen", Value: int64(0)},
			{Key: "totalAborted", Value: int64(0)}, {Key: "totalCommitted", Value: int64(0)},
			{Key: "totalStarted", Value: int64(0)}, {Key: "totalPrepared", Value: int64(0)},
		}},
	)
	return d, nil
}

func (n *Node) connectionsSection() bson.D {
	cur := n.counters.connCurrent.Load()
	return bson.D{
		{Key: "current", Value: int32(cur)},
		{Key: "available", Value: int32(maxIncomingConnections - cur)},
		{Key: "totalCreated", Value: n.counters.connTotal.Load()},
		{Key: "rejected", Value: int64(0)},
		// Only the connection running serverStatus is known to be busy.
		{Key: "active", Value: int32(1)},
		{Key: "threaded", Value: int32(cur)},
		{Key: "exhaustIsMaster", Value: int64(0)},
		{Key: "exhaustHello", Value: int64(0)},
		{Key: "awaitingTopologyChanges", Value: int64(0)},
		{Key: "loadBalanced", Value: int64(0)},
	}
}

// electionMetricsSection has the shape of spec §3.3 (replication_metrics.idl); a standalone
// reports zeros like mongod does.
func (n *Node) electionMetricsSection() bson.D {
	var s electionCounters
	if n.repl != nil {
		n.mu.Lock()
		s = n.repl.electionStats
		n.mu.Unlock()
	}
	pair := func(called, ok int64) bson.D {
		return bson.D{{Key: "called", Value: called}, {Key: "successful", Value: ok}}
	}
	return bson.D{
		{Key: "stepUpCmd", Value: pair(s.stepUpCalled, s.stepUpOK)},
		{Key: "priorityTakeover", Value: pair(s.priorityCalled, s.priorityOK)},
		{Key: "catchUpTakeover", Value: pair(s.catchUpTakeoverCalled, s.catchUpTakeoverOK)},
		{Key: "electionTimeout", Value: pair(s.timeoutCalled, s.timeoutOK)},
		{Key: "freezeTimeout", Value: pair(s.freezeCalled, s.freezeOK)},
		{Key: "numStepDownsCausedByHigherTerm", Value: s.stepDownsHigherTerm},
		{Key: "numCatchUps", Value: s.catchUps},
		{Key: "numCatchUpsSucceeded", Value: s.catchUpsSucceeded},
		{Key: "numCatchUpsAlreadyCaughtUp", Value: s.catchUpsAlready},
		{Key: "numCatchUpsSkipped", Value: s.catchUpsSkipped},
		{Key: "numCatchUpsTimedOut", Value: s.catchUpsTimedOut},
		{Key: "numCatchUpsFailedWithError", Value: s.catchUpsFailedWithError},
		{Key: "numCatchUpsFailedWithNewTerm", Value: s.catchUpsFailedWithNewTerm},
		{Key: "numCatchUpsFailedWithReplSetAbortPrimaryCatchUpCmd", Value: s.catchUpsAborted},
		{Key: "averageCatchUpOps", Value: s.averageCatchUpOps()},
	}
}

// replSection is the hello replication block plus primaryOnlyServices and rbid (spec §6.10).
func (n *Node) replSection() bson.D {
	n.mu.Lock()
	defer n.mu.Unlock()
	d := bson.D{{Key: "topologyVersion", Value: n.topo.doc()}}
	d = append(d, n.repl.helloFieldsLocked(true)...)
	return append(d,
		bson.E{Key: "primaryOnlyServices", Value: bson.D{}},
		bson.E{Key: "rbid", Value: n.repl.rbid})
}

// extraInfoSection is mongod's Linux extra_info: rusage and page faults.
func extraInfoSection() bson.D {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return bson.D{
		{Key: "note", Value: "fields vary by platform"},
		{Key: "user_time_us", Value: ru.Utime.Sec*1e6 + ru.Utime.Usec},
		{Key: "system_time_us", Value: ru.Stime.Sec*1e6 + ru.Stime.Usec},
		{Key: "maximum_resident_set_kb", Value: ru.Maxrss},
		{Key: "input_blocks", Value: ru.Inblock},
		{Key: "output_blocks", Value: ru.Oublock},
		{Key: "page_reclaims", Value: ru.Minflt},
		{Key: "page_faults", Value: ru.Majflt},
		{Key: "voluntary_context_switches", Value: ru.Nvcsw},
		{Key: "involuntary_context_switches", Value: ru.Nivcsw},
	}
}

// memSection reports resident and virtual size in MiB (int32, like mongod) from /proc.
func memSection() bson.D {
	rss, vsz := procMemMB()
	return bson.D{
		{Key: "bits", Value: int32(64)},
		{Key: "resident", Value: int32(rss)},
		{Key: "virtual", Value: int32(vsz)},
		{Key: "supported", Value: true},
	}
}

func procMemMB() (rss, vsz int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[0], 10, 64)
		switch key {
		case "VmRSS":
			rss = kb / 1024
		case "VmSize":
			vsz = kb / 1024
		}
	}
	return rss, vsz
}
