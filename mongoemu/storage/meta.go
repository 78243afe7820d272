package storage

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Metadata keys the replication layer keeps (spec §7.7, §7.8). Any string works as a key; these
// name the usual ones after mongod's collections so dumps read familiarly.
const (
	MetaReplSetConfig   = "local.system.replset"      // the replica-set config document
	MetaLastVote        = "local.replset.election"    // {term, candidateIndex}
	MetaRollbackID      = "local.system.rollback.id"  // {rollbackId}
	MetaMinValid        = "local.replset.minvalid"    // {ts, t, ...}
	MetaInitialSync     = "local.replset.initialSync" // present while an initial sync runs
	MetaOplogTruncPoint = "local.replset.oplogTruncateAfterPoint"
)

// PutMeta stores v under key, replacing any previous value.
func (t *Tx) PutMeta(key string, v bson.Raw) error {
	if err := t.tx.Bucket(bktMeta).Put([]byte(key), clone(v)); err != nil {
		return fmt.Errorf("put meta %q: %w", key, err)
	}
	return nil
}

// GetMeta returns a copy of the value under key.
func (t *Tx) GetMeta(key string) (bson.Raw, bool, error) {
	v := t.tx.Bucket(bktMeta).Get([]byte(key))
	if v == nil {
		return nil, false, nil
	}
	return bson.Raw(clone(v)), true, nil
}

// DeleteMeta removes key; removing a missing key is not an error.
func (t *Tx) DeleteMeta(key string) error {
	if err := t.tx.Bucket(bktMeta).Delete([]byte(key)); err != nil {
		return fmt.Errorf("delete meta %q: %w", key, err)
	}
	return nil
}

// PutMeta is Update(tx.PutMeta).
func (s *Store) PutMeta(key string, v bson.Raw) error {
	return s.Update(func(tx *Tx) error { return tx.PutMeta(key, v) })
}

// GetMeta is View(tx.GetMeta).
func (s *Store) GetMeta(key string) (v bson.Raw, ok bool, err error) {
	err = s.View(func(tx *Tx) error {
		v, ok, err = tx.GetMeta(key)
		return err
	})
	return v, ok, err
}

// DeleteMeta is Update(tx.DeleteMeta).
func (s *Store) DeleteMeta(key string) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteMeta(key) })
}
