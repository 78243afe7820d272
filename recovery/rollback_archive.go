package recovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/mongo"
)

// The rollback archive (the recovery issue, deliverable 3). mongod leaves its rollback files in
// the dbpath, where nobody reads them and where a resync (which moves the dbpath aside) would
// bury them. The archive moves them into a directory of their own, one entry per rollback, with a
// manifest a DBA can read: which namespaces, how many documents, how many bytes, when, in which
// term, against which member. Nothing in it is ever deleted except by Prune with a retention the
// operator configured.
//
// Crash safety: the manifest is written first with Complete false and the files it plans to move;
// then the files are moved (rename, or copy + fsync + remove across file systems); then the
// manifest is rewritten complete. Archive finishes any incomplete entry it finds before it starts
// a new one, so a sidecar killed half-way loses nothing and moves nothing twice.

// ManifestName is the manifest's file name inside an archive entry.
const ManifestName = "manifest.json"

// Manifest describes one archive entry: the rollback files of one member found at one time.
type Manifest struct {
	ID         string    `json:"id"`
	Set        string    `json:"set"`
	Member     string    `json:"member"`
	ArchivedAt time.Time `json:"archived_at"`
	// Term is the member's term when the files were archived (the term of the branch it rolled
	// back to); SyncSource the member it was syncing from (the one it rolled back against).
	Term       int64  `json:"term"`
	SyncSource string `json:"sync_source,omitempty"`
	// RolledBackFrom and RolledBackTo bound the times the files were written.
	RolledBackFrom time.Time      `json:"rolled_back_from"`
	RolledBackTo   time.Time      `json:"rolled_back_to"`
	Documents      int            `json:"documents"`
	Bytes          int64          `json:"bytes"`
	Files          []ManifestFile `json:"files"`
	Complete       bool           `json:"complete"`
}

// ManifestFile is one rollback file in an archive entry.
type ManifestFile struct {
	// Namespace is db.collection, resolved from the UUID when the collection still exists;
	// empty when it does not (dropped since).
	Namespace string `json:"namespace,omitempty"`
	// Dir is the directory mongod wrote the file into: a collection UUID (4.4+) or a namespace.
	Dir          string    `json:"dir"`
	File         string    `json:"file"` // path inside the entry
	Source       string    `json:"source"`
	Documents    int       `json:"documents"`
	Bytes        int64     `json:"bytes"`
	RolledBackAt time.Time `json:"rolled_back_at"`
	// OldestID and NewestID bound the ObjectId _id creation times of its documents (when the
	// _ids are ObjectIds): roughly when the lost writes were made.
	OldestID time.Time `json:"oldest_id_time,omitzero"`
	NewestID time.Time `json:"newest_id_time,omitzero"`
	// Damaged says where the file stops being readable BSON (a truncated write, a bad disk);
	// Documents counts the documents before that point. The file is archived as it is.
	Damaged string `json:"damaged,omitempty"`
}

// ArchiveMeta is what the caller knows about the member when it archives.
type ArchiveMeta struct {
	Set, Member string
	Term        int64
	SyncSource  string
	// Namespaces maps collection UUIDs to namespaces (mongo.CollectionResolver); may be nil.
	Namespaces map[string]string
	Now        time.Time
}

// Archive moves files into a new entry under dir and returns its manifest, after finishing any
// incomplete entry left by an earlier run. No files: no new entry.
func Archive(dir string, files []RollbackFile, meta ArchiveMeta) (*Manifest, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("recovery: rollback archive %s: %w", dir, err)
	}
	if err := finishIncomplete(dir); err != nil {
		return nil, err
	}
	var left []RollbackFile
	for _, f := range files {
		if _, err := os.Stat(f.Path); err == nil {
			left = append(left, f)
		}
	}
	if len(left) == 0 {
		return nil, nil
	}
	m := &Manifest{ID: entryID(meta.Now, meta.Member), Set: meta.Set, Member: meta.Member, ArchivedAt: meta.Now.UTC(),
		Term: meta.Term, SyncSource: meta.SyncSource}
	for _, f := range left {
		ns := ""
		if strings.Count(f.Dir, "-") == 4 {
			ns = meta.Namespaces[f.Dir]
		} else if strings.Contains(f.Dir, ".") {
			ns = f.Dir // pre-4.4 layout: the directory is the namespace
		}
		m.Files = append(m.Files, ManifestFile{Namespace: ns, Dir: f.Dir, File: filepath.Join(f.Dir, f.Name),
			Source: f.Path, Bytes: f.Bytes, RolledBackAt: f.At})
	}
	entry := filepath.Join(dir, m.ID)
	if err := os.MkdirAll(entry, 0o750); err != nil {
		return nil, fmt.Errorf("recovery: rollback archive %s: %w", entry, err)
	}
	if err := writeManifest(entry, m); err != nil {
		return nil, err
	}
	if err := complete(entry, m); err != nil {
		return nil, err
	}
	return m, nil
}

// complete moves every file of m not moved yet, counts the documents, and marks m complete.
func complete(entry string, m *Manifest) error {
	m.Documents, m.Bytes = 0, 0
	for i := range m.Files {
		f := &m.Files[i]
		dst := filepath.Join(entry, f.File)
		if _, err := os.Stat(dst); errors.Is(err, fs.ErrNotExist) {
			if err := moveFile(f.Source, dst); err != nil {
				return fmt.Errorf("recovery: archive %s: %w", f.Source, err)
			}
		}
		if err := countFile(dst, f); err != nil {
			return fmt.Errorf("recovery: archive %s: %w", dst, err)
		}
		m.Documents += f.Documents
		m.Bytes += f.Bytes
		if m.RolledBackFrom.IsZero() || f.RolledBackAt.Before(m.RolledBackFrom) {
			m.RolledBackFrom = f.RolledBackAt
		}
		if f.RolledBackAt.After(m.RolledBackTo) {
			m.RolledBackTo = f.RolledBackAt
		}
	}
	m.Complete = true
	return writeManifest(entry, m)
}

// countFile fills the document count, size and _id time range of f from the archived copy.
func countFile(path string, f *ManifestFile) error {
	r, err := os.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	info, err := r.Stat()
	if err != nil {
		return err
	}
	f.Bytes, f.Documents = info.Size(), 0
	f.OldestID, f.NewestID, f.Damaged = time.Time{}, time.Time{}, ""
	err = mongo.ReadBSONDocs(r, func(d mongo.BSONDoc) error {
		f.Documents++
		if t := d.IDTime(); !t.IsZero() {
			if f.OldestID.IsZero() || t.Before(f.OldestID) {
				f.OldestID = t
			}
			if t.After(f.NewestID) {
				f.NewestID = t
			}
		}
		return nil
	})
	if errors.Is(err, mongo.ErrBSONFile) {
		f.Damaged = err.Error()
		return nil
	}
	return err
}

// finishIncomplete completes every entry whose manifest says it is not complete.
func finishIncomplete(dir string) error {
	ms, err := List(dir)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if !m.Complete {
			if err := complete(filepath.Join(dir, m.ID), &m); err != nil {
				return err
			}
		}
	}
	return nil
}

// moveFile renames src to dst, or copies, syncs and removes it across file systems.
func moveFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	err := os.Rename(src, dst)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".partial"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return os.Remove(src)
}

// writeManifest writes m atomically (temporary file, fsync, rename).
func writeManifest(entry string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("recovery: manifest: %w", err)
	}
	tmp := filepath.Join(entry, ManifestName+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("recovery: manifest: %w", err)
	}
	_, werr := f.Write(append(data, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("recovery: manifest %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(entry, ManifestName)); err != nil {
		return fmt.Errorf("recovery: manifest: %w", err)
	}
	return nil
}

// entryID names an entry by time and member: sortable, and safe as a directory name.
func entryID(now time.Time, member string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, member)
	return now.UTC().Format("20060102T150405.000Z") + "-" + safe
}

// ResolveNamespaces fills the namespaces of files whose collection UUID was not resolved when
// they were archived (the member's mongod did not answer listCollections then), from ns (UUID ->
// namespace), rewriting the manifests it changes. It returns how many files it named.
func ResolveNamespaces(dir string, ns map[string]string) (int, error) {
	ms, err := List(dir)
	if err != nil {
		return 0, err
	}
	named := 0
	for _, m := range ms {
		changed := false
		for i := range m.Files {
			f := &m.Files[i]
			if f.Namespace == "" && ns[f.Dir] != "" {
				f.Namespace, changed = ns[f.Dir], true
				named++
			}
		}
		if changed {
			if err := writeManifest(filepath.Join(dir, m.ID), &m); err != nil {
				return named, err
			}
		}
	}
	return named, nil
}

// Unresolved reports whether some archived file still lacks its namespace.
func Unresolved(ms []Manifest) bool {
	for _, m := range ms {
		for _, f := range m.Files {
			if f.Namespace == "" && strings.Count(f.Dir, "-") == 4 {
				return true
			}
		}
	}
	return false
}
