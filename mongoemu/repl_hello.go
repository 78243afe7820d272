package mongoemu

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// helloFieldsLocked builds the replication block of hello (spec §2.1, §2.2), after
// topologyVersion. n.mu must be held.
func (rc *replCoord) helloFieldsLocked(isHello bool) bson.D {
	wk := writableKey(isHello)
	if rc.cfg == nil || rc.self < 0 {
		d := bson.D{}
		if rc.cfg != nil {
			d = append(d, bson.E{Key: "setName", Value: rc.cfg.name})
		}
		return append(d, bson.E{Key: wk, Value: false}, bson.E{Key: "secondary", Value: false},
			bson.E{Key: "info", Value: "Does not have a valid replica set config"},
			bson.E{Key: "isreplicaset", Value: true})
	}
	cfg := rc.cfg
	var hosts, passives, arbiters bson.A
	for _, m := range cfg.members {
		switch {
		case m.hidden || m.secondaryDelaySecs > 0:
		case m.arbiterOnly:
			arbiters = append(arbiters, m.host)
		case m.priority == 0:
			passives = append(passives, m.host)
		default:
			hosts = append(hosts, m.host)
		}
	}
	d := bson.D{}
	if hosts != nil {
		d = append(d, bson.E{Key: "hosts", Value: hosts})
	} else {
		d = append(d, bson.E{Key: "hosts", Value: bson.A{}})
	}
	if passives != nil {
		d = append(d, bson.E{Key: "passives", Value: passives})
	}
	if arbiters != nil {
		d = append(d, bson.E{Key: "arbiters", Value: arbiters})
	}
	state := rc.stateLocked()
	writable := state == statePrimary && rc.leader == leaderWritable && !rc.n.shutdownStarted.Load()
	// A primary still catching up or draining says secondary:true (spec §2.2).
	secondary := state == stateSecondary || (state == statePrimary && (rc.leader == leaderCatchUp || rc.leader == leaderDrain))
	d = append(d, bson.E{Key: "setName", Value: cfg.name}, bson.E{Key: "setVersion", Value: int32(cfg.version)},
		bson.E{Key: wk, Value: writable}, bson.E{Key: "secondary", Value: secondary})
	if p := memberName(cfg, rc.primary); p != "" {
		d = append(d, bson.E{Key: "primary", Value: p})
	}
	self := cfg.members[rc.self]
	if self.arbiterOnly {
		d = append(d, bson.E{Key: "arbiterOnly", Value: true})
	} else if self.priority == 0 {
		d = append(d, bson.E{Key: "passive", Value: true})
	}
	if self.hidden {
		d = append(d, bson.E{Key: "hidden", Value: true})
	}
	if !self.buildIndexes {
		d = append(d, bson.E{Key: "buildIndexes", Value: false})
	}
	if self.secondaryDelaySecs > 0 {
		key := "secondaryDelaySecs"
		if !isHello {
			key = "slaveDelay"
		}
		d = append(d, bson.E{Key: key, Value: self.secondaryDelaySecs})
	}
	if len(self.tags) > 0 {
		d = append(d, bson.E{Key: "tags", Value: self.tags})
	}
	d = append(d, bson.E{Key: "me", Value: self.host})
	if state == statePrimary {
		d = append(d, bson.E{Key: "electionId", Value: electionID(rc.leaderTerm)})
	}
	if !self.arbiterOnly {
		lw := bson.D{{Key: "opTime", Value: rc.lastApplied.doc()}, {Key: "lastWriteDate", Value: rc.lastApplied.date()}}
		if !rc.commitPoint.isNull() {
			lw = append(lw, bson.E{Key: "majorityOpTime", Value: rc.commitPoint.doc()},
				bson.E{Key: "majorityWriteDate", Value: rc.commitPoint.date()})
		}
		d = append(d, bson.E{Key: "lastWrite", Value: lw})
	}
	return d
}

// electionID is OID::fromTerm: 0x7fffffff then the 8-byte big-endian term (spec §0).
func electionID(term int64) bson.ObjectID {
	var id bson.ObjectID
	id[0], id[1], id[2], id[3] = 0x7f, 0xff, 0xff, 0xff
	for i := 0; i < 8; i++ {
		id[4+i] = byte(uint64(term) >> (56 - 8*i))
	}
	return id
}

// checkState refuses user commands the state does not allow (spec §5.7 server-side origin).
func (rc *replCoord) checkState(r *request, kind cmdKind) error {
	if r.c.internal.Load() && kind == kindRead {
		return nil // intra-set reads (oplog fetching, cloning) are always allowed
	}
	rc.n.mu.Lock()
	state := rc.stateLocked()
	// A primary stays writable for command dispatch while a stepdown waits for the RSTL (mongod
	// clears _canAcceptNonLocalWrites only under the RSTL): such writes queue on the lock.
	writable := state == statePrimary && (rc.leader == leaderWritable || rc.leader == leaderSteppingDown && !rc.stepDownLocked)
	draining := state == statePrimary && !writable
	rc.n.mu.Unlock()
	notPrimary := "not primary"
	if !r.c.supportsHello.Load() {
		notPrimary = "not master"
	}
	switch kind {
	case kindWrite:
		if !writable {
			return mongoerr.New(mongoerr.NotWritablePrimary, "%s", notPrimary)
		}
	case kindRead:
		if writable {
			return nil
		}
		if !r.secondaryOk() {
			if draining {
				return mongoerr.New(mongoerr.NotPrimaryOrSecondary, "node is in drain mode")
			}
			if r.c.supportsHello.Load() {
				return mongoerr.New(mongoerr.NotPrimaryNoSecondaryOk, "not primary and secondaryOk=false")
			}
			return mongoerr.New(mongoerr.NotPrimaryNoSecondaryOk, "not master and slaveOk=false")
		}
		switch state {
		case stateSecondary, statePrimary:
			return nil
		case stateRecovering:
			return mongoerr.New(mongoerr.NotPrimaryOrSecondary, "node is recovering")
		default:
			return mongoerr.New(mongoerr.NotPrimaryOrSecondary, "node is not in primary or recovering state")
		}
	}
	return nil
}
