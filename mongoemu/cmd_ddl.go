package mongoemu

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/query"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// registerDDL adds the catalog commands. Capped collections keep their flag and options, but
// mongoemu does not bound their size (only the oplog is truly capped, by the storage layer).
func (n *Node) registerDDL(t commandTable) {
	t["create"] = &command{fn: n.cmdCreate, kind: kindWrite}
	t["drop"] = &command{fn: n.cmdDrop, kind: kindWrite}
	t["dropDatabase"] = &command{fn: n.cmdDropDatabase, kind: kindWrite}
	t["createIndexes"] = &command{fn: n.cmdCreateIndexes, kind: kindWrite}
	t["dropIndexes"] = &command{fn: n.cmdDropIndexes, kind: kindWrite}
	t["deleteIndexes"] = t["dropIndexes"]
	t["listDatabases"] = &command{fn: n.cmdListDatabases, kind: kindRead, adminOnly: true}
	t["listCollections"] = &command{fn: n.cmdListCollections, kind: kindRead}
	t["listIndexes"] = &command{fn: n.cmdListIndexes, kind: kindRead}
	t["collStats"] = &command{fn: n.cmdCollStats, kind: kindRead}
	t["dbStats"] = &command{fn: n.cmdDBStats, kind: kindRead}
}

// cmdCreate creates a collection explicitly: {create, capped, size, max}. Views are refused.
func (n *Node) cmdCreate(ctx context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	if _, ok := r.arg("viewOn"); ok {
		return nil, mongoerr.New(mongoerr.IllegalOperation, "views are not supported by mongoemu")
	}
	capped, err := r.boolArg("capped")
	if err != nil {
		return nil, err
	}
	opts := bson.D{}
	if capped {
		size, ok, err := r.intArg("size")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, mongoerr.New(mongoerr.InvalidOptions, "the 'size' field is required when 'capped' is true")
		}
		opts = append(opts, bson.E{Key: "capped", Value: true}, bson.E{Key: "size", Value: size})
		if max, ok, err := r.intArg("max"); err != nil {
			return nil, err
		} else if ok && max > 0 {
			opts = append(opts, bson.E{Key: "max", Value: max})
		}
	}
	if err := n.precheckWriteConcern(r); err != nil {
		return nil, err
	}
	res, err := n.runWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
		return createCollection(tx, ol, t, opts)
	})
	if err != nil {
		return nil, err
	}
	return n.finishWrite(ctx, r, res, bson.D{})
}

// createCollection records ns with its options and logs {create, ...options, idIndex}.
func createCollection(tx *storage.Tx, ol *opLog, t target, opts bson.D) error {
	if _, ok, err := tx.CollectionUUID(t.ns); err != nil {
		return err
	} else if ok {
		return mongoerr.New(mongoerr.NamespaceExists, "Collection already exists. NS: %s", t.ns)
	}
	capped := len(opts) > 0 && opts[0].Key == "capped"
	if err := tx.CreateCollection(t.ns, storage.CollOptions{Capped: capped}); err != nil {
		return err
	}
	if len(opts) > 0 {
		raw, err := bson.Marshal(opts)
		if err != nil {
			return err
		}
		if err := saveCollMeta(tx, t.ns, collMeta{Options: raw}); err != nil {
			return err
		}
	}
	if t.replicated() {
		ui, _, _ := tx.CollectionUUID(t.ns)
		entry := append(bson.D{{Key: "create", Value: t.coll}}, opts...)
		ol.Command(t.db, &ui, append(entry, bson.E{Key: "idIndex", Value: idIndexSpec()}))
	}
	return nil
}

// cmdDrop replies {nIndexesWas, ns}; a missing collection is NamespaceNotFound "ns not found"
// (which drivers ignore for drop).
func (n *Node) cmdDrop(ctx context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	if t.ns == storage.OplogNS && n.repl != nil {
		return nil, mongoerr.New(mongoerr.IllegalOperation, "can't drop live oplog while replicating")
	}
	if err := n.precheckWriteConcern(r); err != nil {
		return nil, err
	}
	var was int
	res, err := n.runWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
		var err error
		was, err = dropCollection(tx, ol, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return n.finishWrite(ctx, r, res, bson.D{{Key: "nIndexesWas", Value: int32(was)}, {Key: "ns", Value: t.ns}})
}

// dropCollection drops t with its metadata, logs {drop: coll}, and returns its index count.
func dropCollection(tx *storage.Tx, ol *opLog, t target) (int, error) {
	ui, ok, err := tx.CollectionUUID(t.ns)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, mongoerr.New(mongoerr.NamespaceNotFound, "ns not found")
	}
	meta, err := loadCollMeta(tx, t.ns)
	if err != nil {
		return 0, err
	}
	if _, err := tx.DropCollection(t.ns); err != nil {
		return 0, err
	}
	if err := tx.DeleteMeta(collMetaKey(t.ns)); err != nil {
		return 0, err
	}
	if t.replicated() {
		ol.Command(t.db, &ui, bson.D{{Key: "drop", Value: t.coll}})
	}
	return 1 + len(meta.Indexes), nil
}

// cmdDropDatabase drops every collection (one drop entry each, then {dropDatabase: 1}) and
// replies {dropped: db}; a database that does not exist is just ok.
func (n *Node) cmdDropDatabase(ctx context.Context, r *request) (bson.D, error) {
	if r.db == "local" && n.repl != nil {
		return nil, mongoerr.New(mongoerr.IllegalOperation, "Cannot drop 'local' database while replication is active")
	}
	if err := n.precheckWriteConcern(r); err != nil {
		return nil, err
	}
	existed := false
	res, err := n.runWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
		colls, err := tx.ListCollections(r.db)
		if err != nil {
			return err
		}
		existed = len(colls) > 0
		for _, c := range colls {
			if _, err := dropCollection(tx, ol, target{db: r.db, coll: c.Name, ns: r.db + "." + c.Name}); err != nil {
				return err
			}
		}
		if existed && r.db != "local" {
			ol.Command(r.db, nil, bson.D{{Key: "dropDatabase", Value: int32(1)}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	fields := bson.D{}
	if existed {
		fields = append(fields, bson.E{Key: "dropped", Value: r.db})
	}
	return n.finishWrite(ctx, r, res, fields)
}

// cmdListDatabases answers {databases: [{name, sizeOnDisk, empty}], totalSize, totalSizeMb};
// nameOnly lists names only. filter applies to the full entries.
func (n *Node) cmdListDatabases(_ context.Context, r *request) (bson.D, error) {
	nameOnly, m, err := listArgs(r)
	if err != nil {
		return nil, err
	}
	var dbs []storage.DBInfo
	if err := n.runRead(func(tx *storage.Tx) (err error) { dbs, err = tx.ListDatabases(); return err }); err != nil {
		return nil, err
	}
	out := bson.A{}
	var total int64
	for _, d := range dbs {
		entry := bson.D{{Key: "name", Value: d.Name}, {Key: "sizeOnDisk", Value: d.SizeOnDisk}, {Key: "empty", Value: d.Empty}}
		raw, err := bson.Marshal(entry)
		if err != nil {
			return nil, err
		}
		if !m.Match(raw) || !n.mayListDatabase(r, d.Name) { // auth_authorize.go
			continue
		}
		total += d.SizeOnDisk
		if nameOnly {
			entry = entry[:1]
		}
		out = append(out, entry)
	}
	fields := bson.D{{Key: "databases", Value: out}}
	if !nameOnly {
		fields = append(fields, bson.E{Key: "totalSize", Value: total}, bson.E{Key: "totalSizeMb", Value: total >> 20})
	}
	return fields, nil
}

// cmdListCollections answers a cursor (ns "db.$cmd.listCollections") of {name, type, options,
// info: {readOnly, uuid}, idIndex}; nameOnly keeps {name, type}. filter applies to full entries.
func (n *Node) cmdListCollections(ctx context.Context, r *request) (bson.D, error) {
	nameOnly, m, err := listArgs(r)
	if err != nil {
		return nil, err
	}
	var docs []bson.Raw
	err = n.runRead(func(tx *storage.Tx) error {
		colls, err := tx.ListCollections(r.db)
		if err != nil {
			return err
		}
		for _, c := range colls {
			entry, err := collectionEntry(tx, r.db, c)
			if err != nil {
				return err
			}
			raw, err := bson.Marshal(entry)
			if err != nil {
				return err
			}
			if !m.Match(raw) {
				continue
			}
			if nameOnly {
				if raw, err = bson.Marshal(entry[:2]); err != nil {
					return err
				}
			}
			docs = append(docs, raw)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return n.catalogCursor(ctx, r, r.db+".$cmd.listCollections", docs)
}

func collectionEntry(tx *storage.Tx, db string, c storage.CollInfo) (bson.D, error) {
	meta, err := loadCollMeta(tx, db+"."+c.Name)
	if err != nil {
		return nil, err
	}
	opts := any(bson.D{})
	if meta.Options != nil {
		opts = meta.Options
	} else if c.Options.Capped {
		opts = bson.D{{Key: "capped", Value: true}}
	}
	entry := bson.D{
		{Key: "name", Value: c.Name}, {Key: "type", Value: "collection"}, {Key: "options", Value: opts},
		{Key: "info", Value: bson.D{{Key: "readOnly", Value: false}, {Key: "uuid", Value: bson.Binary{Subtype: bson.TypeBinaryUUID, Data: c.UUID[:]}}}},
	}
	if db+"."+c.Name != storage.OplogNS {
		entry = append(entry, bson.E{Key: "idIndex", Value: idIndexSpec()})
	}
	return entry, nil
}

// catalogCursor answers a listCollections/listIndexes-style command with a cursor over docs,
// honouring cursor.batchSize.
func (n *Node) catalogCursor(ctx context.Context, r *request, ns string, docs []bson.Raw) (bson.D, error) {
	batch := defaultFirstBatch
	cur, _, err := r.docArg("cursor")
	if err != nil {
		return nil, err
	}
	if bv, err := cur.LookupErr("batchSize"); err == nil {
		b, ok := numberAsInt64(bv)
		if !ok || b < 0 {
			return nil, mongoerr.New(mongoerr.Location51024, "BSON field 'batchSize' value must be >= 0, actual value '%s'", bv.String())
		}
		batch = int(b)
	}
	c := &sliceCursor{docs: docs}
	var first []bson.Raw
	if batch > 0 {
		first, _, _ = c.next(ctx, batch, 0)
	}
	var id int64
	if len(c.docs) > 0 {
		id = n.cursors.add(ns, c, false, false)
	}
	return cursorReply(r, c, "firstBatch", first, id, ns), nil
}

// listArgs reads what listDatabases and listCollections share: nameOnly and a filter that
// applies to the full entries.
func listArgs(r *request) (nameOnly bool, m *query.Matcher, err error) {
	if nameOnly, err = r.boolArg("nameOnly"); err != nil {
		return false, nil, err
	}
	filter, _, err := r.docArg("filter")
	if err != nil {
		return false, nil, err
	}
	m, err = query.NewMatcher(filter)
	return nameOnly, m, err
}
