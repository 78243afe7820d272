package mongoemu

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/storage"
)

// indexPageBytes is the size mongoemu reports per index: indexes are recorded, not built.
const indexPageBytes = 4096

// collSizes is one collection's count, data size and index count.
type collSizes struct {
	count, size int64
	nindexes    int
	capped      bool
}

func readCollSizes(tx *storage.Tx, ns string) (collSizes, bool, error) {
	var s collSizes
	_, ok, err := tx.CollectionUUID(ns)
	if err != nil || !ok {
		return s, false, err
	}
	if s.count, err = tx.Count(ns); err != nil {
		return s, true, err
	}
	if s.size, err = tx.DataSize(ns); err != nil {
		return s, true, err
	}
	meta, err := loadCollMeta(tx, ns)
	s.nindexes = 1 + len(meta.Indexes)
	if ns == storage.OplogNS {
		s.nindexes, s.capped = 0, true
	}
	if meta.Options != nil {
		s.capped, _ = meta.Options.Lookup("capped").BooleanOK()
	}
	return s, true, err
}

func scaleArg(r *request) (int64, error) {
	scale, ok, err := r.intArg("scale")
	if err != nil || !ok || scale < 1 {
		return 1, err
	}
	return scale, nil
}

// cmdCollStats answers the legacy collStats fields a driver or operator reads; a missing
// collection reports zeros, as mongod 4.2+ does.
func (n *Node) cmdCollStats(_ context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	scale, err := scaleArg(r)
	if err != nil {
		return nil, err
	}
	var s collSizes
	if err := n.runRead(func(tx *storage.Tx) (err error) { s, _, err = readCollSizes(tx, t.ns); return err }); err != nil {
		return nil, err
	}
	avg := int64(0)
	if s.count > 0 {
		avg = s.size / s.count
	}
	idxSizes := bson.D{}
	if s.nindexes > 0 {
		idxSizes = append(idxSizes, bson.E{Key: "_id_", Value: narrowCount(indexPageBytes / scale)})
	}
	return bson.D{
		{Key: "ns", Value: t.ns}, {Key: "size", Value: narrowCount(s.size / scale)}, {Key: "count", Value: narrowCount(s.count)},
		{Key: "avgObjSize", Value: narrowCount(avg)}, {Key: "storageSize", Value: narrowCount((s.size + indexPageBytes) / scale)},
		{Key: "capped", Value: s.capped}, {Key: "nindexes", Value: int32(s.nindexes)},
		{Key: "indexBuilds", Value: bson.A{}},
		{Key: "totalIndexSize", Value: narrowCount(int64(s.nindexes) * indexPageBytes / scale)},
		{Key: "totalSize", Value: narrowCount((s.size + indexPageBytes + int64(s.nindexes)*indexPageBytes) / scale)},
		{Key: "indexSizes", Value: idxSizes}, {Key: "scaleFactor", Value: int32(scale)},
	}, nil
}

// cmdDBStats sums collStats over the database.
func (n *Node) cmdDBStats(_ context.Context, r *request) (bson.D, error) {
	scale, err := scaleArg(r)
	if err != nil {
		return nil, err
	}
	var colls, indexes int
	var objects, size int64
	err = n.runRead(func(tx *storage.Tx) error {
		infos, err := tx.ListCollections(r.db)
		if err != nil {
			return err
		}
		for _, c := range infos {
			s, _, err := readCollSizes(tx, r.db+"."+c.Name)
			if err != nil {
				return err
			}
			colls, indexes, objects, size = colls+1, indexes+s.nindexes, objects+s.count, size+s.size
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	avg := 0.0
	if objects > 0 {
		avg = float64(size) / float64(objects)
	}
	storage := float64(size+int64(colls)*indexPageBytes) / float64(scale)
	idx := float64(int64(indexes)*indexPageBytes) / float64(scale)
	return bson.D{
		{Key: "db", Value: r.db}, {Key: "collections", Value: int32(colls)}, {Key: "views", Value: int32(0)},
		{Key: "objects", Value: objects}, {Key: "avgObjSize", Value: avg}, {Key: "dataSize", Value: float64(size) / float64(scale)},
		{Key: "storageSize", Value: storage}, {Key: "indexes", Value: int32(indexes)}, {Key: "indexSize", Value: idx},
		{Key: "totalSize", Value: storage + idx}, {Key: "scaleFactor", Value: int32(scale)},
	}, nil
}
