package mongoemu

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// handleRequestVotes answers replSetRequestVotes with mongod's rules and refusal texts
// (spec §5.3, processReplSetRequestVotes). A granted real vote is made durable before replying:
// on a node whose disk is stalled the vote never comes back, as with mongod.
func (rc *replCoord) handleRequestVotes(ctx context.Context, r *request) (bson.D, error) {
	setName, _ := r.cmd.Lookup("setName").StringValueOK()
	dryRun, _ := r.cmd.Lookup("dryRun").BooleanOK()
	term, _ := numberAsInt64(r.cmd.Lookup("term"))
	candID, _ := numberAsInt64(r.cmd.Lookup("candidateIndex"))
	cfgVersion, _ := numberAsInt64(r.cmd.Lookup("configVersion"))
	cfgTerm, hasCfgTerm := numberAsInt64(r.cmd.Lookup("configTerm"))
	if !hasCfgTerm {
		cfgTerm = -1
	}
	candOT, _ := opTimeFromValue(r.cmd.Lookup("lastAppliedOpTime"))

	rc.n.mu.Lock()
	if rc.cfg == nil {
		rc.n.mu.Unlock()
		return nil, mongoerr.New(mongoerr.NotYetInitialized, "no replset config has been received")
	}
	// Voters adopt a higher term from any vote request, dry runs included
	// (ReplicationCoordinatorImpl::processReplSetRequestVotes calls updateTerm first): a dry run
	// carries the candidate's current term, never one it has not started.
	if term > rc.term {
		rc.updateTermLocked(term, "vote request")
	}
	reason := rc.voteRefusalLocked(setName, dryRun, term, int(candID), cfgVersion, cfgTerm, candOT)
	granted := reason == ""
	candIdx := rc.cfg.indexOfID(int(candID))
	maxApplied := rc.lastApplied
	for _, m := range rc.members {
		if maxApplied.less(m.applied) {
			maxApplied = m.applied
		}
	}
	if !dryRun {
		rc.participant = &participantMetrics{voted: granted, term: term, date: time.Now(), candidateID: int(candID),
			reason: reason, lastApplied: rc.lastApplied, maxApplied: maxApplied}
		if rc.self >= 0 {
			rc.participant.priority = rc.selfConfig().priority
		}
	}
	if granted && !dryRun {
		rc.lastVoteTerm, rc.lastVoteFor = term, int(candID)
		rc.resetElectionTimerLocked()
	}
	replyTerm := rc.term
	candName := memberName(rc.cfg, candIdx)
	rc.n.mu.Unlock()
	if granted && !dryRun {
		if err := rc.persistLastVote(term, int(candID)); err != nil {
			return nil, fmt.Errorf("persist vote: %w", err)
		}
		rc.n.events.info("ELECTION", 21428, "Voted for candidate", "term", term, "candidate", candName)
	}
	return bson.D{{Key: "term", Value: replyTerm}, {Key: "voteGranted", Value: granted}, {Key: "reason", Value: reason}}, nil
}

func (rc *replCoord) voteRefusalLocked(setName string, dryRun bool, term int64, candID int, cfgVersion, cfgTerm int64, candOT opTime) string {
	cfg := rc.cfg
	switch {
	case cfg.newerThan(cfgVersion, cfgTerm):
		return fmt.Sprintf("candidate's config with {version: %d, term: %d} is older than mine with {version: %d, term: %d}", cfgVersion, cfgTerm, cfg.version, cfg.term)
	case term < rc.term:
		return fmt.Sprintf("candidate's term (%d) is lower than mine (%d)", term, rc.term)
	case setName != cfg.name:
		return fmt.Sprintf("candidate's set name (%s) differs from mine (%s)", setName, cfg.name)
	case candOT.less(rc.lastApplied):
		return fmt.Sprintf("candidate's data is staler than mine. candidate's last applied OpTime: %s, my last applied OpTime: %s", fmtOpTime(candOT), fmtOpTime(rc.lastApplied))
	case !dryRun && rc.lastVoteTerm == term:
		return fmt.Sprintf("already voted for another candidate (%s) this term (%d)", memberName(cfg, cfg.indexOfID(rc.lastVoteFor)), term)
	}
	if _, on := rc.n.fail.active(fpVoteNo); on {
		return "forced to vote no during election via failpoint"
	}
	if rc.isArbiterLocked() && rc.primary >= 0 && rc.primary != rc.self {
		pm, p := rc.members[rc.primary], cfg.members[rc.primary]
		ci := cfg.indexOfID(candID)
		if ci >= 0 && pm.up && pm.state == statePrimary && p.priority >= cfg.members[ci].priority {
			return fmt.Sprintf("can see a healthy primary (%s) of equal or greater priority", p.host)
		}
	}
	return ""
}

func fmtOpTime(o opTime) string {
	return fmt.Sprintf("{ ts: Timestamp(%d, %d), t: %d }", o.ts.T, o.ts.I, o.term)
}
