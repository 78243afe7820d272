package mongoemu

import (
	"bytes"
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// Cluster-wide read/write concern defaults, as mongod 7.0 keeps them: the document
// {_id: "ReadWriteConcernDefaults"} in config.settings, written by setDefaultRWConcern on the
// primary and replicated like any other write (read_write_concern_defaults.cpp,
// commands/rwc_defaults_commands.cpp). Without a cluster-wide write concern (CWWC) a write that
// names no writeConcern takes the implicit default: {w: "majority"} unless arbiters make a
// majority of data-bearing voters impossible, then {w: 1} (repl_set_config.cpp
// isImplicitDefaultWriteConcernMajority).

const rwcDefaultsID = "ReadWriteConcernDefaults"

var configSettings = target{db: "config", coll: "settings", ns: "config.settings"}

// implicitDefaultWCMajority is ReplSetConfig::isImplicitDefaultWriteConcernMajority: majority
// when there is no voting arbiter, or when the writable (data-bearing) voters strictly
// outnumber the voting majority, so arbiters cannot keep a primary elected that no majority
// write can reach. PSS and PSSSA: majority; PSA and PSSA: w:1.
func (c *replConfig) implicitDefaultWCMajority() bool {
	voting, writable := 0, 0
	for _, m := range c.members {
		if !m.isVoter() {
			continue
		}
		voting++
		if !m.arbiterOnly {
			writable++
		}
	}
	return voting == writable || writable > voting/2+1
}

// rwcDefaults is the stored defaults document; rc and wc are nil when unset.
type rwcDefaults struct {
	raw          bson.Raw
	rc, wc       bson.Raw
	updateOpTime bson.Timestamp
	updateWall   bson.DateTime
}

// rwcSeen remembers when this node first saw the current defaults document: the
// localUpdateWallClockTime of getDefaultRWConcern.
type rwcSeen struct {
	raw bson.Raw
	at  time.Time
}

func rwcIDValue(id string) bson.RawValue {
	b, _ := bson.Marshal(bson.D{{Key: "_id", Value: id}})
	return bson.Raw(b).Lookup("_id")
}

// readRWCDefaults reads the defaults document (absent collection or document: nothing set).
func (rc *replCoord) readRWCDefaults() (rwcDefaults, time.Time, error) {
	var d rwcDefaults
	err := rc.n.store.View(func(tx *storage.Tx) error {
		doc, ok, err := tx.Get(configSettings.ns, rwcIDValue(rwcDefaultsID))
		if isNamespaceNotFound(err) || !ok {
			return nil
		}
		if err != nil {
			return err
		}
		d.raw = doc
		d.rc, _ = doc.Lookup("defaultReadConcern").DocumentOK()
		d.wc, _ = doc.Lookup("defaultWriteConcern").DocumentOK()
		d.updateOpTime.T, d.updateOpTime.I, _ = doc.Lookup("updateOpTime").TimestampOK()
		if dt, ok := doc.Lookup("updateWallClockTime").DateTimeOK(); ok {
			d.updateWall = bson.DateTime(dt)
		}
		return nil
	})
	seen := rc.rwcSeen.Load()
	if seen == nil || !bytes.Equal(seen.raw, d.raw) {
		seen = &rwcSeen{raw: d.raw, at: time.Now()}
		rc.rwcSeen.Store(seen)
	}
	return d, seen.at, err
}

// implicitMajority is the implicit default for the config in use; before a config is loaded
// mongod has no way to compute it and uses w:1 (ReadWriteConcernDefaults::getDefault).
func (rc *replCoord) implicitMajority() bool {
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	return rc.cfg != nil && rc.cfg.implicitDefaultWCMajority()
}

// defaultWriteConcern is what a write that named no writeConcern waits for: the CWWC
// (provenance customDefault) or the implicit default (implicitDefault), never w:0
// (write_concern.cpp extractWriteConcern).
func (rc *replCoord) defaultWriteConcern() writeConcern {
	d, _, err := rc.readRWCDefaults()
	if err == nil && d.wc != nil {
		if wc, perr := parseWriteConcernDoc(d.wc); perr == nil && wc.clientSupplied {
			wc.clientSupplied, wc.provenance = false, "customDefault"
			if wc.w == 0 && wc.wMode == "" {
				wc.w = 1
			}
			return wc
		}
	}
	if rc.implicitMajority() {
		return writeConcern{w: -1, wMode: "majority", provenance: "implicitDefault"}
	}
	return writeConcern{w: 1, provenance: "implicitDefault"}
}

// rwcDefaultsReply is GetDefaultRWConcernResponse: the RWConcernDefault fields in IDL order,
// then inMemory and localUpdateWallClockTime. An unset read concern shows as the implicit
// {level: "local"}; an implicit w:1 default shows no defaultWriteConcern at all.
func (rc *replCoord) rwcDefaultsReply(d rwcDefaults, seenAt time.Time, inMemory bool) bson.D {
	out := bson.D{}
	rcSource, wcSource := "implicit", "implicit"
	if d.rc != nil && len(d.rc) > 5 {
		out = append(out, bson.E{Key: "defaultReadConcern", Value: d.rc})
		rcSource = "global"
	} else {
		out = append(out, bson.E{Key: "defaultReadConcern", Value: bson.D{{Key: "level", Value: "local"}}})
	}
	switch {
	case d.wc != nil && len(d.wc) > 5:
		out = append(out, bson.E{Key: "defaultWriteConcern", Value: d.wc})
		wcSource = "global"
	case rc.implicitMajority():
		out = append(out, bson.E{Key: "defaultWriteConcern", Value: bson.D{{Key: "w", Value: "majority"}, {Key: "wtimeout", Value: int32(0)}}})
	}
	if d.raw != nil {
		out = append(out, bson.E{Key: "updateOpTime", Value: d.updateOpTime}, bson.E{Key: "updateWallClockTime", Value: d.updateWall})
	}
	out = append(out, bson.E{Key: "defaultWriteConcernSource", Value: wcSource}, bson.E{Key: "defaultReadConcernSource", Value: rcSource})
	if inMemory {
		out = append(out, bson.E{Key: "inMemory", Value: true})
	}
	return append(out, bson.E{Key: "localUpdateWallClockTime", Value: dateOf(seenAt)})
}

// checkImplicitDefaultWCChange refuses a reconfig, forced or not, that would flip the implicit
// default write concern while no CWWC is set (replication_coordinator_impl.cpp
// _doReplSetReconfig; jstests/replsets/reconfig_fails_if_changes_implicit_default_wc).
func (rc *replCoord) checkImplicitDefaultWCChange(cur, next *replConfig) error {
	if cur.implicitDefaultWCMajority() == next.implicitDefaultWCMajority() {
		return nil
	}
	d, _, err := rc.readRWCDefaults()
	if err != nil {
		return err
	}
	if d.wc != nil && len(d.wc) > 5 {
		return nil
	}
	return mongoerr.New(mongoerr.NewReplicaSetConfigurationIncompatible,
		"Reconfig attempted to install a config that would change the implicit default write concern. Use the setDefaultRWConcern command to set a cluster-wide write concern and try the reconfig again.")
}

// writeConcernDoc is WriteConcernOptions::toBSON for a stored default: w, j when set, wtimeout.
func writeConcernDoc(wc writeConcern) bson.D {
	d := bson.D{}
	if wc.wMode != "" {
		d = append(d, bson.E{Key: "w", Value: wc.wMode})
	} else {
		d = append(d, bson.E{Key: "w", Value: int32(wc.w)})
	}
	if wc.jSet {
		d = append(d, bson.E{Key: "j", Value: wc.j})
	}
	return append(d, bson.E{Key: "wtimeout", Value: int32(wc.wtimeout / time.Millisecond)})
}

// storeRWCDefaults upserts the defaults document through the primary's write path, so it is
// in the oplog and replicates (updatePersistedDefaultRWConcernDocument).
func (n *Node) storeRWCDefaults(ctx context.Context, r *request, doc bson.D) (writeResult, error) {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return writeResult{}, err
	}
	id := rwcIDValue(rwcDefaultsID)
	return n.runWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
		w := newCollWriter(tx, ol, configSettings)
		_, found, err := tx.Get(configSettings.ns, id)
		if err != nil && !isNamespaceNotFound(err) {
			return err
		}
		if found {
			return w.replace(id, raw)
		}
		return w.insert(raw)
	})
}
