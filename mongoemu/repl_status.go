package mongoemu

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// handleGetStatus is replSetGetStatus with the fields and BSON types of spec §3.3.
func (rc *replCoord) handleGetStatus(_ context.Context, _ *request) (bson.D, error) {
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	now := time.Now()
	if rc.cfg == nil {
		return nil, mongoerr.New(mongoerr.NotYetInitialized, "no replset config has been received").
			With("info", "run rs.initiate(...) if not yet done for the set")
	}
	state := rc.stateLocked()
	if rc.self < 0 {
		return nil, mongoerr.New(mongoerr.InvalidReplicaSetConfig, "Our replica set config is invalid or we are not a member of it").
			With("state", int32(stateRemoved)).With("stateStr", "REMOVED").
			With("uptime", int32(rc.n.uptime()/time.Second)).With("optime", rc.lastApplied.doc()).
			With("optimeDate", rc.lastApplied.date()).With("lastHeartbeatMessage", "").
			With("syncSourceHost", "").With("syncSourceId", int32(-1)).With("infoMessage", "")
	}
	cfg := rc.cfg
	d := bson.D{{Key: "set", Value: cfg.name}, {Key: "date", Value: dateOf(now)}, {Key: "myState", Value: int32(state)},
		{Key: "term", Value: rc.term}}
	if rc.tooStale {
		d = append(d, bson.E{Key: "tooStale", Value: true})
	}
	d = append(d, bson.E{Key: "syncSourceHost", Value: rc.syncSource},
		bson.E{Key: "syncSourceId", Value: int32(memberIDOf(cfg, cfg.indexOfHost(rc.syncSource)))},
		bson.E{Key: "heartbeatIntervalMillis", Value: cfg.settings.heartbeatInterval.Milliseconds()},
		bson.E{Key: "majorityVoteCount", Value: int32(cfg.majorityVoteCount())},
		bson.E{Key: "writeMajorityCount", Value: int32(cfg.writeMajority())},
		bson.E{Key: "votingMembersCount", Value: int32(cfg.votingCount())},
		bson.E{Key: "writableVotingMembersCount", Value: int32(cfg.writableVotingCount())})
	applied, durable := rc.lastApplied, rc.lastDurable
	if state == stateStartup2 {
		applied, durable = nullOpTime, nullOpTime
	}
	optimes := bson.D{{Key: "lastCommittedOpTime", Value: rc.commitPoint.doc()},
		{Key: "lastCommittedWallTime", Value: dateOf(rc.commitWall)}}
	if !rc.commitPoint.isNull() {
		optimes = append(optimes, bson.E{Key: "readConcernMajorityOpTime", Value: rc.commitPoint.doc()},
			bson.E{Key: "readConcernMajorityWallTime", Value: dateOf(rc.commitWall)})
	}
	optimes = append(optimes, bson.E{Key: "appliedOpTime", Value: applied.doc()},
		bson.E{Key: "durableOpTime", Value: durable.doc()},
		bson.E{Key: "lastAppliedWallTime", Value: dateOf(rc.lastAppliedWall)},
		bson.E{Key: "lastDurableWallTime", Value: dateOf(rc.lastAppliedWall)})
	d = append(d, bson.E{Key: "optimes", Value: optimes},
		bson.E{Key: "lastStableRecoveryTimestamp", Value: rc.commitPoint.ts})
	if rc.initialSync != nil && state == stateStartup2 {
		d = append(d, bson.E{Key: "initialSyncStatus", Value: rc.initialSync.doc(now)})
	}
	if c := rc.candidate; c != nil {
		d = append(d, bson.E{Key: "electionCandidateMetrics", Value: c.doc()})
	}
	if p := rc.participant; p != nil {
		d = append(d, bson.E{Key: "electionParticipantMetrics", Value: p.doc()})
	}
	members := bson.A{}
	for i := range cfg.members {
		members = append(members, rc.memberStatusLocked(i, now))
	}
	return append(d, bson.E{Key: "members", Value: members}), nil
}

func (rc *replCoord) memberStatusLocked(i int, now time.Time) bson.D {
	mc := rc.cfg.members[i]
	d := bson.D{{Key: "_id", Value: int32(mc.id)}, {Key: "name", Value: mc.host}}
	if i == rc.self {
		state := rc.stateLocked()
		applied := rc.lastApplied
		if state == stateStartup2 {
			applied = nullOpTime
		}
		d = append(d, bson.E{Key: "health", Value: 1.0}, bson.E{Key: "state", Value: int32(state)},
			bson.E{Key: "stateStr", Value: state.String()}, bson.E{Key: "uptime", Value: int32(rc.n.uptime() / time.Second)})
		if !mc.arbiterOnly {
			d = append(d, bson.E{Key: "optime", Value: applied.doc()}, bson.E{Key: "optimeDate", Value: applied.date()},
				bson.E{Key: "lastAppliedWallTime", Value: dateOf(rc.lastAppliedWall)},
				bson.E{Key: "lastDurableWallTime", Value: dateOf(rc.lastAppliedWall)})
		}
		d = append(d, bson.E{Key: "syncSourceHost", Value: rc.syncSource},
			bson.E{Key: "syncSourceId", Value: int32(memberIDOf(rc.cfg, rc.cfg.indexOfHost(rc.syncSource)))})
		if rc.maintenance > 0 {
			d = append(d, bson.E{Key: "maintenanceMode", Value: int32(rc.maintenance)})
		}
		d = append(d, bson.E{Key: "infoMessage", Value: rc.infoMessage})
		if state == statePrimary {
			d = append(d, bson.E{Key: "electionTime", Value: rc.electionTime}, bson.E{Key: "electionDate", Value: dateOf(rc.electionDate)})
		}
		return append(d, bson.E{Key: "configVersion", Value: int32(rc.cfg.version)}, bson.E{Key: "configTerm", Value: rc.cfg.term},
			bson.E{Key: "self", Value: true}, bson.E{Key: "lastHeartbeatMessage", Value: ""})
	}
	m := rc.members[i]
	health, state, stateStr := 0.0, m.state, "(not reachable/healthy)"
	uptime := int32(0)
	if m.up {
		health, stateStr = 1.0, m.state.String()
		uptime = int32(now.Sub(m.upSince) / time.Second)
	} else if !m.contacted {
		state, stateStr = stateUnknown, "(not reachable/healthy)"
	} else {
		state = stateDown
	}
	d = append(d, bson.E{Key: "health", Value: health}, bson.E{Key: "state", Value: int32(state)},
		bson.E{Key: "stateStr", Value: stateStr}, bson.E{Key: "uptime", Value: uptime})
	if !mc.arbiterOnly {
		d = append(d, bson.E{Key: "optime", Value: m.applied.doc()}, bson.E{Key: "optimeDurable", Value: m.durable.doc()},
			bson.E{Key: "optimeDate", Value: m.applied.date()}, bson.E{Key: "optimeDurableDate", Value: m.durable.date()},
			bson.E{Key: "lastAppliedWallTime", Value: dateOf(m.appliedWall)}, bson.E{Key: "lastDurableWallTime", Value: dateOf(m.durableWall)})
	}
	d = append(d, bson.E{Key: "lastHeartbeat", Value: dateOf(m.lastHeartbeat)},
		bson.E{Key: "lastHeartbeatRecv", Value: dateOf(m.lastHeartbeatRecv)},
		bson.E{Key: "pingMs", Value: m.pingMs}, bson.E{Key: "lastHeartbeatMessage", Value: m.message},
		bson.E{Key: "syncSourceHost", Value: m.syncSource},
		bson.E{Key: "syncSourceId", Value: int32(memberIDOf(rc.cfg, rc.cfg.indexOfHost(m.syncSource)))},
		bson.E{Key: "infoMessage", Value: ""})
	if m.up && m.state == statePrimary {
		d = append(d, bson.E{Key: "electionTime", Value: m.electionTime},
			bson.E{Key: "electionDate", Value: bson.DateTime(int64(m.electionTime.T) * 1000)})
	}
	cv, ct := m.configVersion, m.configTerm
	if !m.contacted {
		cv, ct = -1, -1
	}
	return append(d, bson.E{Key: "configVersion", Value: int32(cv)}, bson.E{Key: "configTerm", Value: ct})
}

func (c *candidateMetrics) doc() bson.D {
	d := bson.D{{Key: "lastElectionReason", Value: c.reason}, {Key: "lastElectionDate", Value: dateOf(c.date)},
		{Key: "electionTerm", Value: c.term}, {Key: "lastCommittedOpTimeAtElection", Value: c.lastCommitted.doc()},
		{Key: "lastSeenOpTimeAtElection", Value: c.lastSeen.doc()}, {Key: "numVotesNeeded", Value: int32(c.votesNeeded)},
		{Key: "priorityAtElection", Value: c.priority}, {Key: "electionTimeoutMillis", Value: c.electionTimeout.Milliseconds()}}
	if c.priorPrimary >= 0 {
		d = append(d, bson.E{Key: "priorPrimaryMemberId", Value: int32(c.priorPrimary)})
	}
	if c.hasTargetCatchup {
		d = append(d, bson.E{Key: "targetCatchupOpTime", Value: c.targetCatchup.doc()})
	}
	if c.numCatchUpOps != nil {
		d = append(d, bson.E{Key: "numCatchUpOps", Value: *c.numCatchUpOps})
	}
	if !c.newTermStart.IsZero() {
		d = append(d, bson.E{Key: "newTermStartDate", Value: dateOf(c.newTermStart)})
	}
	if !c.wMajorityAvailable.IsZero() {
		d = append(d, bson.E{Key: "wMajorityWriteAvailabilityDate", Value: dateOf(c.wMajorityAvailable)})
	}
	return d
}

func (p *participantMetrics) doc() bson.D {
	return bson.D{{Key: "votedForCandidate", Value: p.voted}, {Key: "electionTerm", Value: p.term},
		{Key: "lastVoteDate", Value: dateOf(p.date)}, {Key: "electionCandidateMemberId", Value: int32(p.candidateID)},
		{Key: "voteReason", Value: p.reason}, {Key: "lastAppliedOpTimeAtElection", Value: p.lastApplied.doc()},
		{Key: "maxAppliedOpTimeInSet", Value: p.maxApplied.doc()}, {Key: "priorityAtElection", Value: p.priority}}
}
