package storage

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"sort"
	"strings"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	bolt "go.etcd.io/bbolt"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// OplogNS is the oplog's namespace (spec §7.1). Its entries live in their own bucket keyed by ts;
// Scan and Count on it read them in ts order, document writes on it are refused.
const OplogNS = "local.oplog.rs"

// CollOptions are the stored creation options of a collection.
type CollOptions struct {
	Capped bool
	// UUID is the collection UUID (oplog "ui"); the zero UUID means "generate one".
	UUID [16]byte
}

// CollInfo describes one collection of a database.
type CollInfo struct {
	Name    string // without the database
	UUID    [16]byte
	Options CollOptions
}

// DBInfo describes one database, as listDatabases shows it.
type DBInfo struct {
	Name string
	// SizeOnDisk is an estimate: the BSON bytes of its documents plus one 4 KiB page per collection.
	SizeOnDisk int64
	Empty      bool // no documents at all
}

type catalogEntry struct {
	UUID   bson.Binary `bson:"uuid"`
	Capped bool        `bson:"capped"`
}

// splitNS splits "db.coll"; InvalidNamespace unless both parts are non-empty.
func splitNS(ns string) (db, coll string, err error) {
	db, coll, ok := strings.Cut(ns, ".")
	if !ok || db == "" || coll == "" {
		return "", "", mongoerr.New(mongoerr.InvalidNamespace, "Invalid namespace specified '%s'", ns)
	}
	return db, coll, nil
}

// CreateCollection records ns in the catalog; NamespaceExists if it is already there.
func (t *Tx) CreateCollection(ns string, opts CollOptions) error {
	if _, _, err := splitNS(ns); err != nil {
		return err
	}
	cat := t.tx.Bucket(bktCatalog)
	if cat.Get([]byte(ns)) != nil {
		return mongoerr.New(mongoerr.NamespaceExists, "Collection %s already exists.", ns)
	}
	if opts.UUID == ([16]byte{}) {
		_, _ = rand.Read(opts.UUID[:]) // never fails (crypto/rand panics instead)
		opts.UUID[6] = opts.UUID[6]&0x0f | 0x40
		opts.UUID[8] = opts.UUID[8]&0x3f | 0x80
	}
	raw, err := bson.Marshal(catalogEntry{
		UUID:   bson.Binary{Subtype: bson.TypeBinaryUUID, Data: opts.UUID[:]},
		Capped: opts.Capped,
	})
	if err != nil {
		return fmt.Errorf("encode catalog entry %s: %w", ns, err)
	}
	if err := cat.Put([]byte(ns), raw); err != nil {
		return fmt.Errorf("catalog put %s: %w", ns, err)
	}
	if ns == OplogNS {
		return nil
	}
	if _, err := t.tx.Bucket(bktData).CreateBucketIfNotExists([]byte(ns)); err != nil {
		return fmt.Errorf("create %s: %w", ns, err)
	}
	return putCounters(t.tx.Bucket(bktStats), []byte(ns), counters{})
}

// DropCollection removes ns and all its documents; false if it did not exist. Dropping
// local.oplog.rs empties the oplog.
func (t *Tx) DropCollection(ns string) (bool, error) {
	cat := t.tx.Bucket(bktCatalog)
	if cat.Get([]byte(ns)) == nil {
		return false, nil
	}
	if err := cat.Delete([]byte(ns)); err != nil {
		return false, fmt.Errorf("catalog delete %s: %w", ns, err)
	}
	if ns == OplogNS {
		return true, t.clearOplog()
	}
	if err := t.tx.Bucket(bktData).DeleteBucket([]byte(ns)); err != nil && err != bolt.ErrBucketNotFound {
		return false, fmt.Errorf("drop %s: %w", ns, err)
	}
	if err := t.tx.Bucket(bktStats).Delete([]byte(ns)); err != nil {
		return false, fmt.Errorf("drop stats %s: %w", ns, err)
	}
	return true, nil
}

// DropDatabase drops every collection of db; dropping a database that does not exist is not an
// error (as in mongod).
func (t *Tx) DropDatabase(db string) error {
	names, err := t.namespaces(db)
	if err != nil {
		return err
	}
	for _, ns := range names {
		if _, err := t.DropCollection(ns); err != nil {
			return err
		}
	}
	return nil
}

// namespaces lists the full names of db's collections (all of them when db is "").
func (t *Tx) namespaces(db string) ([]string, error) {
	var out []string
	prefix := []byte(db + ".")
	c := t.tx.Bucket(bktCatalog).Cursor()
	k, _ := c.First()
	if db != "" {
		k, _ = c.Seek(prefix)
	}
	for ; k != nil && (db == "" || bytes.HasPrefix(k, prefix)); k, _ = c.Next() {
		out = append(out, string(k))
	}
	return out, nil
}

// ListDatabases lists the databases that have at least one collection, by name.
func (t *Tx) ListDatabases() ([]DBInfo, error) {
	all, err := t.namespaces("")
	if err != nil {
		return nil, err
	}
	byName := map[string]*DBInfo{}
	for _, ns := range all {
		db, _, _ := strings.Cut(ns, ".")
		info := byName[db]
		if info == nil {
			info = &DBInfo{Name: db, Empty: true}
			byName[db] = info
		}
		st := t.collCounters(ns)
		info.SizeOnDisk += st.bytes + 4096
		if st.n > 0 {
			info.Empty = false
		}
	}
	res := make([]DBInfo, 0, len(byName))
	for _, v := range byName {
		res = append(res, *v)
	}
	sort.Slice(res, func(i, j int) bool { return res[i].Name < res[j].Name })
	return res, nil
}

// ListCollections lists db's collections by name.
func (t *Tx) ListCollections(db string) ([]CollInfo, error) {
	names, err := t.namespaces(db)
	if err != nil {
		return nil, err
	}
	out := make([]CollInfo, 0, len(names))
	for _, ns := range names {
		opts, _, err := t.collOptions(ns)
		if err != nil {
			return nil, err
		}
		out = append(out, CollInfo{Name: strings.TrimPrefix(ns, db+"."), UUID: opts.UUID, Options: opts})
	}
	return out, nil
}

// CollectionUUID returns ns's UUID; false if ns does not exist.
func (t *Tx) CollectionUUID(ns string) ([16]byte, bool, error) {
	opts, ok, err := t.collOptions(ns)
	return opts.UUID, ok, err
}

func (t *Tx) collOptions(ns string) (CollOptions, bool, error) {
	raw := t.tx.Bucket(bktCatalog).Get([]byte(ns))
	if raw == nil {
		return CollOptions{}, false, nil
	}
	var e catalogEntry
	if err := bson.Unmarshal(raw, &e); err != nil {
		return CollOptions{}, false, fmt.Errorf("decode catalog entry %s: %w", ns, err)
	}
	opts := CollOptions{Capped: e.Capped}
	copy(opts.UUID[:], e.UUID.Data)
	return opts, true, nil
}

// collCounters is (documents, bytes) of ns; the oplog keeps its own.
func (t *Tx) collCounters(ns string) counters {
	if ns == OplogNS {
		return getCounters(t.tx.Bucket(bktSys), keyOplogStats)
	}
	return getCounters(t.tx.Bucket(bktStats), []byte(ns))
}
