package recovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rsguard/rsguard/mongo"
)

// List reads every entry's manifest under dir, oldest first; none when dir does not exist. A
// directory without a readable manifest is an error naming it: the archive must not hide data.
func List(dir string) ([]Manifest, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("recovery: rollback archive: %w", err)
	}
	var out []Manifest
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		m, err := readManifest(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Manifest) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func readManifest(entry string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(entry, ManifestName))
	if err != nil {
		return m, fmt.Errorf("recovery: rollback archive entry %s: %w", entry, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("recovery: rollback archive entry %s: %s: %w", entry, ManifestName, err)
	}
	return m, nil
}

// Find returns the entry whose id is id, or the only one starting with it.
func Find(dir, id string) (Manifest, error) {
	ms, err := List(dir)
	if err != nil {
		return Manifest{}, err
	}
	var hits []Manifest
	for _, m := range ms {
		if m.ID == id {
			return m, nil
		}
		if strings.HasPrefix(m.ID, id) {
			hits = append(hits, m)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return Manifest{}, fmt.Errorf("recovery: no rollback archive entry %q in %s (%d entries)", id, dir, len(ms))
	}
	return Manifest{}, fmt.Errorf("recovery: %q names %d rollback archive entries in %s: give more of the id", id, len(hits), dir)
}

// Export writes the documents of entry m (of namespace ns only, unless ns is empty) to w as
// relaxed extended JSON, one per line: the format mongoimport reads, so that a DBA can review
// what was rolled back and re-apply it. It returns the number of documents written.
func Export(dir string, m Manifest, ns string, w io.Writer) (int, error) {
	n := 0
	found := ns == ""
	for _, f := range m.Files {
		if ns != "" && f.Namespace != ns && f.Dir != ns {
			continue
		}
		found = true
		r, err := os.Open(filepath.Join(dir, m.ID, f.File))
		if err != nil {
			return n, fmt.Errorf("recovery: export %s: %w", m.ID, err)
		}
		err = mongo.ReadBSONDocs(r, func(d mongo.BSONDoc) error {
			line, err := d.JSON()
			if err != nil {
				return err
			}
			if _, err := w.Write(append(line, '\n')); err != nil {
				return err
			}
			n++
			return nil
		})
		r.Close()
		if err != nil {
			return n, fmt.Errorf("recovery: export %s/%s: %w", m.ID, f.File, err)
		}
	}
	if !found {
		return 0, fmt.Errorf("recovery: entry %s has no namespace %q", m.ID, ns)
	}
	return n, nil
}

// Prune removes the complete entries archived more than retention before now and returns their
// ids. Zero retention keeps everything: nothing rsguard archived is deleted unless the operator
// said how long to keep it.
func Prune(dir string, retention time.Duration, now time.Time) ([]string, error) {
	if retention <= 0 {
		return nil, nil
	}
	ms, err := List(dir)
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, m := range ms {
		if m.Complete && now.Sub(m.ArchivedAt) > retention {
			if err := os.RemoveAll(filepath.Join(dir, m.ID)); err != nil {
				return gone, fmt.Errorf("recovery: prune %s: %w", m.ID, err)
			}
			gone = append(gone, m.ID)
		}
	}
	return gone, nil
}
