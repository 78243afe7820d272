package mongoemu

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/storage"
	"github.com/rsguard/rsguard/mongoemu/wire"
)

// initialSyncProgress is reported as replSetGetStatus.initialSyncStatus (spec §7.6).
type initialSyncProgress struct {
	start, end              time.Time
	failed, maxAttempts     int
	attempts                []attemptRecord
	appliedOps              int64
	oplogStart, oplogEnd    opTime
	databases               map[string]*dbProgress
	dbOrder                 []string
	totalBytes, copiedBytes int64
}

type attemptRecord struct {
	duration time.Duration
	status   string
	source   string
}

type dbProgress struct {
	collections, cloned int
	start, end          time.Time
	colls               []*collProgress
}

type collProgress struct {
	ns             string
	toCopy, copied int64
	batches        int64
	start, end     time.Time
}

// cloneAll copies every non-local database from the source (AllDatabaseCloner), pacing
// documents by the mongoemuInitialSyncDocsPerSecond parameter so drills can watch progress.
func (rc *replCoord) cloneAll(ctx context.Context, c *wire.Client, p *initialSyncProgress) error {
	reply, err := c.Command(ctx, bson.D{{Key: "listDatabases", Value: 1}, {Key: "$db", Value: "admin"},
		{Key: "$readPreference", Value: bson.D{{Key: "mode", Value: "secondaryPreferred"}}}}, 30*time.Second)
	if err != nil {
		return fmt.Errorf("listDatabases on sync source: %w", err)
	}
	arr, _ := reply.Lookup("databases").ArrayOK()
	vals, _ := arr.Values()
	for _, v := range vals {
		d, _ := v.DocumentOK()
		name, _ := d.Lookup("name").StringValueOK()
		size, _ := numberAsInt64(d.Lookup("sizeOnDisk"))
		if name == "local" || name == "" {
			continue
		}
		rc.n.mu.Lock()
		p.totalBytes += size
		rc.n.mu.Unlock()
		if err := rc.cloneDatabase(ctx, c, name, p); err != nil {
			return err
		}
	}
	return nil
}

func (rc *replCoord) cloneDatabase(ctx context.Context, c *wire.Client, db string, p *initialSyncProgress) error {
	reply, err := c.Command(ctx, bson.D{{Key: "listCollections", Value: 1}, {Key: "$db", Value: db},
		{Key: "$readPreference", Value: bson.D{{Key: "mode", Value: "secondaryPreferred"}}}}, 30*time.Second)
	if err != nil {
		return fmt.Errorf("listCollections %s on sync source: %w", db, err)
	}
	_, colls, err := cursorBatch(reply, "firstBatch")
	if err != nil {
		return err
	}
	dp := &dbProgress{collections: len(colls), start: time.Now()}
	rc.n.mu.Lock()
	p.databases[db] = dp
	p.dbOrder = append(p.dbOrder, db)
	rc.n.mu.Unlock()
	for _, cd := range colls {
		name, _ := cd.Lookup("name").StringValueOK()
		var opts storage.CollOptions
		if _, data, ok := cd.Lookup("info", "uuid").BinaryOK(); ok && len(data) == 16 {
			copy(opts.UUID[:], data)
		}
		if err := rc.cloneCollection(ctx, c, db, name, opts, dp, p); err != nil {
			return err
		}
	}
	rc.n.mu.Lock()
	dp.end = time.Now()
	rc.n.mu.Unlock()
	return nil
}

func (rc *replCoord) cloneCollection(ctx context.Context, c *wire.Client, db, coll string, opts storage.CollOptions,
	dp *dbProgress, p *initialSyncProgress) error {
	ns := db + "." + coll
	cp := &collProgress{ns: ns, start: time.Now()}
	if reply, err := c.Command(ctx, bson.D{{Key: "count", Value: coll}, {Key: "$db", Value: db},
		{Key: "$readPreference", Value: bson.D{{Key: "mode", Value: "secondaryPreferred"}}}}, 30*time.Second); err == nil {
		cp.toCopy, _ = numberAsInt64(reply.Lookup("n"))
	}
	rc.n.mu.Lock()
	dp.colls = append(dp.colls, cp)
	rc.n.mu.Unlock()
	if err := rc.n.store.Update(func(tx *storage.Tx) error { return tx.CreateCollection(ns, opts) }); err != nil && !isCode(err, 48) {
		return err
	}
	reply, err := c.Command(ctx, bson.D{{Key: "find", Value: coll}, {Key: "batchSize", Value: int32(1000)},
		{Key: "$readPreference", Value: bson.D{{Key: "mode", Value: "secondaryPreferred"}}}, {Key: "$db", Value: db}}, time.Minute)
	if err != nil {
		return fmt.Errorf("clone %s: %w", ns, err)
	}
	id, batch, err := cursorBatch(reply, "firstBatch")
	if err != nil {
		return err
	}
	for {
		if err := rc.insertCloned(ctx, ns, batch, cp, p); err != nil {
			return err
		}
		if id == 0 {
			break
		}
		reply, err := c.Command(ctx, bson.D{{Key: "getMore", Value: id}, {Key: "collection", Value: coll},
			{Key: "batchSize", Value: int32(1000)}, {Key: "$db", Value: db}}, time.Minute)
		if err != nil {
			return fmt.Errorf("clone %s: %w", ns, err)
		}
		if id, batch, err = cursorBatch(reply, "nextBatch"); err != nil {
			return err
		}
	}
	rc.n.mu.Lock()
	cp.end = time.Now()
	dp.cloned++
	rc.n.mu.Unlock()
	return nil
}

// insertCloned writes one fetched batch, in chunks paced by the copy-rate parameter.
func (rc *replCoord) insertCloned(ctx context.Context, ns string, docs []bson.Raw, cp *collProgress, p *initialSyncProgress) error {
	for len(docs) > 0 {
		chunk := docs
		rate := rc.n.params.intValue("mongoemuInitialSyncDocsPerSecond")
		if rate > 0 && int64(len(chunk)) > max(rate/10, 1) {
			chunk = chunk[:max(rate/10, 1)]
		}
		started := time.Now()
		var bytes int64
		err := rc.n.store.Update(func(tx *storage.Tx) error {
			for _, d := range chunk {
				bytes += int64(len(d))
				if err := upsertDoc(tx, ns, d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("clone into %s: %w", ns, err)
		}
		rc.n.mu.Lock()
		cp.copied += int64(len(chunk))
		cp.batches++
		p.copiedBytes += bytes
		rc.n.mu.Unlock()
		docs = docs[len(chunk):]
		if rate > 0 {
			pace := time.Duration(float64(len(chunk)) / float64(rate) * float64(time.Second))
			select {
			case <-time.After(pace - time.Since(started)):
			case <-ctx.Done():
				return errStopFetch
			}
		}
	}
	return nil
}

// doc renders initialSyncStatus (spec §7.6 field list).
func (p *initialSyncProgress) doc(now time.Time) bson.D {
	attempts := bson.A{}
	for _, a := range p.attempts {
		attempts = append(attempts, bson.D{{Key: "durationMillis", Value: int32(a.duration.Milliseconds())},
			{Key: "status", Value: a.status}, {Key: "syncSource", Value: a.source}, {Key: "rollBackId", Value: int32(0)},
			{Key: "operationsRetried", Value: int64(0)}, {Key: "totalTimeUnreachableMillis", Value: int64(0)}})
	}
	dbs := bson.D{{Key: "databasesToClone", Value: int32(len(p.dbOrder))}, {Key: "databasesCloned", Value: int32(countCloned(p))}}
	for _, name := range p.dbOrder {
		dp := p.databases[name]
		dd := bson.D{{Key: "collections", Value: int32(dp.collections)}, {Key: "clonedCollections", Value: int32(dp.cloned)},
			{Key: "start", Value: dateOf(dp.start)}}
		if !dp.end.IsZero() {
			dd = append(dd, bson.E{Key: "end", Value: dateOf(dp.end)}, bson.E{Key: "elapsedMillis", Value: int32(dp.end.Sub(dp.start).Milliseconds())})
		}
		for _, cp := range dp.colls {
			cd := bson.D{{Key: "documentsToCopy", Value: cp.toCopy}, {Key: "documentsCopied", Value: cp.copied},
				{Key: "indexes", Value: int32(1)}, {Key: "fetchedBatches", Value: cp.batches}, {Key: "start", Value: dateOf(cp.start)}}
			if !cp.end.IsZero() {
				cd = append(cd, bson.E{Key: "end", Value: dateOf(cp.end)}, bson.E{Key: "elapsedMillis", Value: int32(cp.end.Sub(cp.start).Milliseconds())})
			}
			cd = append(cd, bson.E{Key: "receivedBatches", Value: cp.batches})
			dd = append(dd, bson.E{Key: cp.ns, Value: cd})
		}
		dbs = append(dbs, bson.E{Key: name, Value: dd})
	}
	d := bson.D{{Key: "method", Value: "logical"}, {Key: "failedInitialSyncAttempts", Value: int32(p.failed)},
		{Key: "maxFailedInitialSyncAttempts", Value: int32(p.maxAttempts)}, {Key: "initialSyncStart", Value: dateOf(p.start)},
		{Key: "totalInitialSyncElapsedMillis", Value: int32(now.Sub(p.start).Milliseconds())},
		{Key: "initialSyncAttempts", Value: attempts}, {Key: "approxTotalDataSize", Value: p.totalBytes},
		{Key: "approxTotalBytesCopied", Value: p.copiedBytes}}
	if p.totalBytes > 0 && p.copiedBytes > 0 && p.copiedBytes < p.totalBytes {
		elapsed := now.Sub(p.start)
		remaining := time.Duration(float64(elapsed) * float64(p.totalBytes-p.copiedBytes) / float64(p.copiedBytes))
		d = append(d, bson.E{Key: "remainingInitialSyncEstimatedMillis", Value: int32(remaining.Milliseconds())})
	}
	d = append(d, bson.E{Key: "appliedOps", Value: int32(p.appliedOps)})
	if !p.oplogStart.isNull() {
		d = append(d, bson.E{Key: "initialSyncOplogStart", Value: p.oplogStart.ts})
	}
	if !p.oplogEnd.isNull() {
		d = append(d, bson.E{Key: "initialSyncOplogEnd", Value: p.oplogEnd.ts})
	}
	d = append(d, bson.E{Key: "totalTimeUnreachableMillis", Value: int64(0)}, bson.E{Key: "databases", Value: dbs})
	return d
}

func countCloned(p *initialSyncProgress) int {
	n := 0
	for _, dp := range p.databases {
		if !dp.end.IsZero() {
			n++
		}
	}
	return n
}
