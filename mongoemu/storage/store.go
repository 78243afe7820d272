package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DataFileName is the bbolt file inside the dbpath.
const DataFileName = "mongoemu.bbolt"

const (
	// DefaultOplogSizeMB is mongod's minimum default oplog size (spec §7.1).
	DefaultOplogSizeMB = 990
	// DefaultJournalCommitInterval is mongod's storage.journal.commitIntervalMs default.
	DefaultJournalCommitInterval = 100 * time.Millisecond
	// defaultBoltTimeout bounds the wait on bbolt's own file lock when LockTimeout is 0.
	defaultBoltTimeout = time.Second
)

// ErrClosed is returned by every operation on a closed (or closing) Store.
var ErrClosed = errors.New("storage: store is closed")

// Options configure Open. The zero value is usable.
type Options struct {
	// OplogSizeMB caps local.oplog.rs (the total size of its entries); 0 means 990.
	OplogSizeMB int
	// Logger receives open/close and background-sync messages; nil discards them.
	Logger *slog.Logger
	// NoSyncEachCommit skips fdatasync on commit; a background sync runs every
	// JournalCommitInterval and Sync forces one (see the package doc, "Durability model").
	NoSyncEachCommit bool
	// JournalCommitInterval is the background sync period with NoSyncEachCommit; 0 means 100 ms.
	JournalCommitInterval time.Duration
	// LockTimeout is how long Open waits for another process to release the dbpath. 0 means
	// mongod's behaviour for mongod.lock (fail at once) and 1 s for bbolt's own file lock.
	LockTimeout time.Duration
}

// Store is an open dbpath. All methods are safe for concurrent use.
type Store struct {
	dir      string
	path     string
	db       *bolt.DB
	lock     *dbpathLock
	log      *slog.Logger
	oplogCap int64
	noSync   bool

	stall    *stall
	group    groupCommit
	versions *Versions   // nil: no snapshot reads (standalone)
	dirty    atomic.Bool // commits not yet fdatasync'd
	closed   atomic.Bool
	done     chan struct{}
	syncWG   sync.WaitGroup
	// lifeMu orders Sync (read side) against the file being closed (write side).
	lifeMu    sync.RWMutex
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the dbpath dir, locks it against other processes and Stores,
// and starts the background syncer when NoSyncEachCommit is set.
func Open(dir string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create dbpath: %w", err)
	}
	lock, err := lockDBPath(dir, opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	boltTimeout := opts.LockTimeout
	if boltTimeout <= 0 {
		boltTimeout = defaultBoltTimeout
	}
	path := filepath.Join(dir, DataFileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        boltTimeout,
		NoSync:         opts.NoSyncEachCommit,
		NoFreelistSync: true, // rebuilt at open; saves a page write per commit
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), lock.release())
	}
	if err := db.Update(initBuckets); err != nil {
		return nil, errors.Join(fmt.Errorf("init %s: %w", path, err), db.Close(), lock.release())
	}
	sizeMB := opts.OplogSizeMB
	if sizeMB <= 0 {
		sizeMB = DefaultOplogSizeMB
	}
	s := &Store{
		dir: dir, path: path, db: db, lock: lock, log: log,
		oplogCap: int64(sizeMB) << 20, noSync: opts.NoSyncEachCommit,
		stall: newStall(), done: make(chan struct{}),
	}
	if s.noSync {
		every := opts.JournalCommitInterval
		if every <= 0 {
			every = DefaultJournalCommitInterval
		}
		s.syncWG.Add(1)
		go s.syncLoop(every)
	}
	log.Info("storage opened", "dbpath", dir, "oplogSizeMB", sizeMB, "syncEachCommit", !s.noSync)
	return s, nil
}

// LastShutdownUnclean reports that mongod.lock was not empty when this Store opened: the
// previous process crashed or was killed instead of shutting down (mongod's
// StorageEngine::LastShutdownState::kUnclean).
func (s *Store) LastShutdownUnclean() bool { return s.lock.unclean }

// Path is the dbpath directory.
func (s *Store) Path() string { return s.dir }

// SizeOnDisk is the size of the data file in bytes.
func (s *Store) SizeOnDisk() int64 {
	fi, err := os.Stat(s.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Sync makes every transaction committed so far durable against an OS crash (j:true).
func (s *Store) Sync() error {
	s.lifeMu.RLock()
	defer s.lifeMu.RUnlock()
	if s.closed.Load() {
		return ErrClosed
	}
	s.dirty.Store(false)
	if err := s.db.Sync(); err != nil {
		s.dirty.Store(true)
		return fmt.Errorf("sync %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) syncLoop(every time.Duration) {
	defer s.syncWG.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			if !s.dirty.Load() {
				continue
			}
			if err := s.Sync(); err != nil && !errors.Is(err, ErrClosed) {
				s.log.Error("background journal sync failed", "err", err)
			}
		}
	}
}

// Close stops the syncer, fails stalled writers with ErrClosed, waits for running transactions,
// syncs, closes the file and releases mongod.lock. Later and concurrent calls wait for the first
// and return its result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	s.closed.Store(true)
	close(s.done)
	s.syncWG.Wait()
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	serr := s.db.Sync()
	cerr := s.db.Close()
	lerr := s.lock.release()
	if err := errors.Join(serr, cerr, lerr); err != nil {
		return fmt.Errorf("close %s: %w", s.dir, err)
	}
	s.log.Info("storage closed", "dbpath", s.dir)
	return nil
}

// Update runs fn in a write transaction, committed if fn returns nil.
func (s *Store) Update(fn func(tx *Tx) error) error {
	if err := s.beforeWrite(); err != nil {
		return err
	}
	err := s.db.Update(func(btx *bolt.Tx) error {
		t := &Tx{tx: btx, s: s}
		if err := fn(t); err != nil {
			return err
		}
		t.flushVersions()
		return s.stall.sleep(s.done)
	})
	return s.afterWrite(err)
}

// SetVersions makes every later write keep the history majority reads need (versions.go).
// Call it before the first write.
func (s *Store) SetVersions(v *Versions) { s.versions = v }

// ViewAt is View reading snapshot snap: Get, Scan and Count see the documents as they were at
// snap.TS. A nil snap is View.
func (s *Store) ViewAt(snap *Snapshot, fn func(tx *Tx) error) error {
	if snap == nil {
		return s.View(fn)
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return s.mapClosed(s.db.View(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx, s: s, at: snap}) }))
}

// View runs fn in a read-only transaction; it is never held back by the write stall.
func (s *Store) View(fn func(tx *Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.mapClosed(s.db.View(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx, s: s}) }))
}

func (s *Store) beforeWrite() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.stall.waitWritable(s.done)
}

func (s *Store) afterWrite(err error) error {
	if err == nil {
		s.dirty.Store(true)
	}
	return s.mapClosed(err)
}

func (s *Store) mapClosed(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}
