package mongoemu

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// handleInitiate is replSetInitiate (spec §4.4).
func (rc *replCoord) handleInitiate(ctx context.Context, r *request) (bson.D, error) {
	rc.n.mu.Lock()
	if rc.cfg != nil || rc.startingUpLocked() { // mongod waits out startup, then finds the config
		rc.n.mu.Unlock()
		return nil, mongoerr.New(mongoerr.AlreadyInitialized, "already initialized").
			With("info", "try querying local.system.replset to see current configuration")
	}
	rc.n.mu.Unlock()
	var reply bson.D
	cfgDoc, hasCfg := r.firstValue().DocumentOK()
	if !hasCfg || len(cfgDoc) <= 5 {
		d := bson.D{{Key: "_id", Value: rc.n.opts.ReplSet}, {Key: "version", Value: int32(1)},
			{Key: "members", Value: bson.A{bson.D{{Key: "_id", Value: int32(0)}, {Key: "host", Value: rc.n.host}}}}}
		cfgDoc, _ = bson.Marshal(d)
		reply = bson.D{{Key: "info2", Value: "no configuration specified. Using a default configuration for the set"},
			{Key: "me", Value: rc.n.host}}
	}
	if _, err := cfgDoc.LookupErr("settings", "replicaSetId"); err == nil {
		return nil, invalidConfig("replSetInitiate: the config may not contain settings.replicaSetId")
	}
	if _, err := cfgDoc.LookupErr("version"); err != nil {
		cfgDoc = withField(cfgDoc, "version", int32(1))
	}
	cfg, err := parseReplConfig(cfgDoc)
	if err != nil {
		return nil, err
	}
	if cfg.name != rc.n.opts.ReplSet {
		return nil, invalidConfig("Attempting to initiate a replica set with name %s, but command line reports %s; rejecting", cfg.name, rc.n.opts.ReplSet)
	}
	if cfg.version != 1 {
		return nil, invalidConfig("Config version must be 1 to initiate, but got version %d", cfg.version)
	}
	self := rc.findSelf(cfg)
	if self < 0 {
		return nil, invalidConfig("No host described in new configuration with {version: 1, term: 0} for replica set %s maps to this node", cfg.name)
	}
	if !cfg.members[self].isElectable() {
		return nil, invalidConfig("This node, %s, with _id %d is not electable under the new configuration with {version: 1, term: 0} for replica set %s", cfg.members[self].host, cfg.members[self].id, cfg.name)
	}
	cfg.term = 0
	cfg.settings.replicaSetID = bson.NewObjectID()
	if err := rc.initiateQuorumCheck(ctx, cfg, self); err != nil {
		return nil, err
	}
	if err := rc.installInitiatedConfig(cfg); err != nil {
		return nil, err
	}
	return reply, nil
}

// initiateQuorumCheck requires every proposed member to answer a heartbeat (spec §4.4).
func (rc *replCoord) initiateQuorumCheck(ctx context.Context, cfg *replConfig, self int) error {
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for i, m := range cfg.members {
		if i == self {
			continue
		}
		wg.Add(1)
		go func(host string) {
			defer wg.Done()
			cmd := bson.D{{Key: "replSetHeartbeat", Value: cfg.name}, {Key: "configVersion", Value: int64(1)},
				{Key: "hbv", Value: int32(1)}, {Key: "from", Value: rc.n.host}, {Key: "term", Value: int64(0)},
				{Key: "checkEmpty", Value: true}, {Key: "$db", Value: "admin"}}
			reply, err := rc.callOnce(ctx, host, cmd, 10*time.Second)
			msg := ""
			switch {
			case err != nil:
				msg = err.Error()
			default:
				if v, _ := numberAsInt64(reply.Lookup("v")); v != -2 {
					msg = "member is already initialized"
				}
			}
			if msg != "" {
				mu.Lock()
				failures = append(failures, host+" failed with "+msg)
				mu.Unlock()
			}
		}(m.host)
	}
	wg.Wait()
	if len(failures) > 0 {
		return mongoerr.New(mongoerr.NodeNotFound, "replSetInitiate quorum check failed because not all proposed set members responded affirmatively: %s", strings.Join(failures, ", "))
	}
	return nil
}

// installInitiatedConfig stores the config, writes the "initiating set" no-op (term -1) and
// becomes SECONDARY; a one-member set elects itself at once (spec §4.4).
func (rc *replCoord) installInitiatedConfig(cfg *replConfig) error {
	held, err := rc.n.locks.lockGlobal(context.Background(), modeIX)
	if err != nil {
		return fmt.Errorf("replSetInitiate: %w", err)
	}
	defer held.release()
	rc.oplogMu.Lock()
	defer rc.oplogMu.Unlock()
	now := time.Now()
	ts := rc.nextTS(now)
	entry, _ := bson.Marshal(bson.D{{Key: "op", Value: "n"}, {Key: "ns", Value: ""},
		{Key: "o", Value: bson.D{{Key: "msg", Value: "initiating set"}}}, {Key: "ts", Value: ts},
		{Key: "t", Value: int64(-1)}, {Key: "v", Value: int64(2)}, {Key: "wall", Value: bson.DateTime(now.UnixMilli())}})
	err = rc.n.store.Update(func(tx *storage.Tx) error {
		if err := tx.PutMeta(metaConfig, cfg.raw()); err != nil {
			return err
		}
		return tx.AppendOplog(entry)
	})
	if err != nil {
		return fmt.Errorf("replSetInitiate: %w", err)
	}
	rc.n.mu.Lock()
	rc.installConfigLocked(cfg)
	rc.advanceAppliedLocked(opTime{ts: ts, term: -1}, now)
	rc.n.events.info("REPL", 21392, "New replica set config in use", "config", cfg.raw().String())
	rc.setFollowerLocked(stateStartup2)
	rc.setFollowerLocked(stateRecovering)
	rc.setFollowerLocked(stateSecondary)
	rc.resetElectionTimerLocked()
	single := len(cfg.members) == 1
	rc.n.mu.Unlock()
	if single {
		go func() { _ = rc.runElection(context.Background(), reasonSingleNode, true) }()
	}
	return nil
}

func withField(doc bson.Raw, key string, v any) bson.Raw {
	elems, _ := doc.Elements()
	d := bson.D{}
	for _, e := range elems {
		d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
	}
	d = append(d, bson.E{Key: key, Value: v})
	b, _ := bson.Marshal(d)
	return b
}

// handleReconfig is replSetReconfig, safe and forced (spec §4.5, §4.6).
func (rc *replCoord) handleReconfig(ctx context.Context, r *request) (bson.D, error) {
	doc, ok := r.firstValue().DocumentOK()
	if !ok {
		return nil, mongoerr.New(mongoerr.BadValue, "no configuration specified")
	}
	force, err := r.boolArg("force")
	if err != nil {
		return nil, err
	}
	rc.n.mu.Lock()
	cur := rc.cfg
	state := rc.stateLocked()
	writable := rc.leader == leaderWritable
	term := rc.term
	rc.n.mu.Unlock()
	if cur == nil {
		return nil, mongoerr.New(mongoerr.NotYetInitialized, "Node not yet initialized; use the replSetInitiate command")
	}
	if !force && (state != statePrimary || !writable) {
		return nil, mongoerr.New(mongoerr.NotWritablePrimary, "replSetReconfig should only be run on a writable PRIMARY, but my state is %s; use the \"force\" argument to override", state)
	}
	if _, err := doc.LookupErr("settings", "replicaSetId"); err != nil {
		doc = withReplicaSetID(doc, cur.settings.replicaSetID)
	}
	cfg, err := parseReplConfig(doc)
	if err != nil {
		return nil, err
	}
	if err := checkReconfigCompatible(cur, cfg, force); err != nil {
		return nil, err
	}
	if err := rc.checkImplicitDefaultWCChange(cur, cfg); err != nil {
		return nil, err
	}
	if force {
		cfg.version += 10000 + int64(rand.IntN(100000))
		cfg.term = -1
	} else {
		cfg.term = term
		if !cfg.newerThan(cur.version, cur.term) {
			return nil, mongoerr.New(mongoerr.NewReplicaSetConfigurationIncompatible,
				"New replica set configuration version and term must be greater than old, but {version: %d, term: %d} is not greater than {version: %d, term: %d} for replica set %s",
				cfg.version, cfg.term, cur.version, cur.term, cur.name)
		}
		self := rc.findSelf(cfg)
		if self < 0 || !cfg.members[self].isElectable() {
			return nil, mongoerr.New(mongoerr.NodeNotElectable, "This node, %s, with _id %d is not electable under the new configuration with {version: %d, term: %d} for replica set %s",
				rc.n.host, memberIDOf(cur, rc.self), cfg.version, cfg.term, cfg.name)
		}
	}
	if !force {
		if _, err := rc.runPrimaryWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
			ol.Noop(bson.D{{Key: "msg", Value: "Reconfig set"}, {Key: "version", Value: int32(cfg.version)}})
			return tx.PutMeta(metaConfig, cfg.raw())
		}); err != nil {
			return nil, err
		}
	} else if err := rc.n.store.PutMeta(metaConfig, cfg.raw()); err != nil {
		return nil, fmt.Errorf("persist config: %w", err)
	}
	rc.n.mu.Lock()
	prev := rc.stateLocked()
	rc.installConfigLocked(cfg)
	rc.n.events.info("REPL", 21392, "New replica set config in use", "config", cfg.raw().String())
	stepDown := rc.leader != leaderNone && (rc.self < 0 || !cfg.members[rc.self].isElectable())
	if rc.self >= 0 && prev == stateRemoved {
		rc.startMemberLocked()
	}
	if now := rc.stateLocked(); now != prev && !stepDown {
		rc.logTransitionLocked(prev, now)
	}
	rc.n.mu.Unlock()
	if stepDown {
		rc.stepDownUnconditionally("this node is not electable in the new config")
	}
	return bson.D{}, nil
}

func withReplicaSetID(doc bson.Raw, id bson.ObjectID) bson.Raw {
	elems, _ := doc.Elements()
	d := bson.D{}
	hasSettings := false
	for _, e := range elems {
		if e.Key() == "settings" {
			hasSettings = true
			sd, _ := e.Value().DocumentOK()
			d = append(d, bson.E{Key: "settings", Value: withField(sd, "replicaSetId", id)})
			continue
		}
		d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
	}
	if !hasSettings {
		d = append(d, bson.E{Key: "settings", Value: bson.D{{Key: "replicaSetId", Value: id}}})
	}
	b, _ := bson.Marshal(d)
	return b
}

// checkReconfigCompatible is validateOldAndNewConfigsCompatible plus the single-voter rule.
func checkReconfigCompatible(old, cfg *replConfig, force bool) error {
	incompatible := func(format string, args ...any) error {
		return mongoerr.New(mongoerr.NewReplicaSetConfigurationIncompatible, format, args...)
	}
	if cfg.name != old.name {
		return incompatible("New and old configurations differ in replica set name; old was %s, and new is %s", old.name, cfg.name)
	}
	if cfg.settings.replicaSetID != old.settings.replicaSetID {
		return incompatible("New and old configurations differ in replica set ID; old was %s, and new is %s", old.settings.replicaSetID.Hex(), cfg.settings.replicaSetID.Hex())
	}
	for _, m := range cfg.members {
		j := old.indexOfHost(m.host)
		if j < 0 {
			continue
		}
		om := old.members[j]
		if om.id != m.id {
			return incompatible("New and old configurations both have members with host of %s but in the new configuration the _id field is %d and in the old configuration it is %d for replica set %s", m.host, m.id, om.id, cfg.name)
		}
		if om.arbiterOnly != m.arbiterOnly {
			return incompatible("New and old configurations differ in the setting of the arbiterOnly field for member %s; to make this change, remove then re-add the member", m.host)
		}
		if om.buildIndexes != m.buildIndexes {
			return incompatible("New and old configurations differ in the setting of the buildIndexes field for member %s; to make this change, remove then re-add the member", m.host)
		}
	}
	if force {
		return nil
	}
	oldVoters, newVoters := map[int]bool{}, map[int]bool{}
	for _, m := range old.members {
		if m.isVoter() {
			oldVoters[m.id] = true
		}
	}
	diff := 0
	for _, m := range cfg.members {
		if m.isVoter() {
			newVoters[m.id] = true
			if !oldVoters[m.id] {
				diff++
			}
		}
	}
	for id := range oldVoters {
		if !newVoters[id] {
			diff++
		}
	}
	if diff > 1 {
		return incompatible("Non force replica set reconfig can only add or remove at most 1 voting member.")
	}
	return nil
}
