package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rsguard/rsguard/config"
	"github.com/rsguard/rsguard/recovery"
)

// rollbackCmd reads the rollback archive a data sidecar keeps (recovery.rollback_archive): the
// writes rollbacks undid, for a DBA to review and re-apply.
type rollbackCmd struct {
	List   rollbackListCmd   `cmd:"" help:"List the archive's entries: member, term, documents, namespaces."`
	Show   rollbackShowCmd   `cmd:"" help:"Show one entry's manifest: every file with its namespace, documents and times."`
	Export rollbackExportCmd `cmd:"" help:"Write an entry's documents as extended JSON lines (mongoimport reads them)."`
}

// archiveFlags say where the archive is: the sidecar's config file, or the directory itself.
type archiveFlags struct {
	Config  string `help:"The sidecar's config file: its recovery.rollback_archive is read." type:"path" xor:"where"`
	Archive string `help:"The archive directory itself." type:"path" xor:"where"`
}

func (a archiveFlags) dir() (string, error) {
	switch {
	case a.Archive != "":
		return a.Archive, nil
	case a.Config != "":
		cfg, err := config.Load(a.Config)
		if err != nil {
			return "", fail(exitUsage, "%v", err)
		}
		if cfg.Recovery.RollbackArchive == "" {
			return "", fail(exitUsage, "%s: recovery.rollback_archive is empty (an arbiter sidecar keeps no archive)", a.Config)
		}
		return cfg.Recovery.RollbackArchive, nil
	}
	return "", fail(exitUsage, "say where the archive is: --config FILE or --archive DIR")
}

type rollbackListCmd struct {
	archiveFlags
	JSON bool `name:"json" help:"Print the manifests as JSON."`
}

func (c *rollbackListCmd) Run(e *env) error {
	dir, err := c.dir()
	if err != nil {
		return err
	}
	ms, err := recovery.List(dir)
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	if c.JSON {
		return writeJSON(e.stdout, ms)
	}
	if len(ms) == 0 {
		fmt.Fprintf(e.stdout, "no rollback archive entries in %s\n", dir)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY\tMEMBER\tTERM\tDOCUMENTS\tBYTES\tROLLED BACK\tNAMESPACES\tSTATE")
	for _, m := range ms {
		state := "complete"
		if !m.Complete {
			state = "incomplete (finished by the sidecar's next pass)"
		}
		if damaged(m) {
			state += ", damaged files"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", m.ID, m.Member, m.Term, m.Documents, m.Bytes,
			m.RolledBackTo.Local().Format(time.DateTime), strings.Join(namespaces(m), ","), state)
	}
	return tw.Flush()
}

type rollbackShowCmd struct {
	archiveFlags
	Entry string `arg:"" help:"The entry's id, or a prefix naming only it."`
	JSON  bool   `name:"json" help:"Print the manifest as JSON."`
}

func (c *rollbackShowCmd) Run(e *env) error {
	dir, err := c.dir()
	if err != nil {
		return err
	}
	m, err := recovery.Find(dir, c.Entry)
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	if c.JSON {
		return writeJSON(e.stdout, m)
	}
	fmt.Fprintf(e.stdout, "entry        %s\nset          %s\nmember       %s\nterm         %d\nsync source  %s\narchived at  %s\nrolled back  %s .. %s\ndocuments    %d in %d files, %d bytes\n\n",
		m.ID, m.Set, m.Member, m.Term, m.SyncSource, m.ArchivedAt.Local().Format(time.RFC3339),
		m.RolledBackFrom.Local().Format(time.RFC3339), m.RolledBackTo.Local().Format(time.RFC3339), m.Documents, len(m.Files), m.Bytes)
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tDOCUMENTS\tBYTES\tWRITES MADE (ObjectId _id)\tFILE")
	for _, f := range m.Files {
		ns := f.Namespace
		if ns == "" {
			ns = "? (collection " + f.Dir + " not found)"
		}
		made := "-"
		if !f.OldestID.IsZero() {
			made = f.OldestID.Local().Format(time.TimeOnly) + " .. " + f.NewestID.Local().Format(time.TimeOnly)
		}
		file := f.File
		if f.Damaged != "" {
			file += " DAMAGED: " + f.Damaged
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", ns, f.Documents, f.Bytes, made, file)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nreview:    supervisor rollback export --archive %s %s [--ns NAMESPACE]\nre-apply:  mongoimport --uri ... --collection ... --mode upsert < export.jsonl (after review)\n", dir, m.ID)
	return nil
}

type rollbackExportCmd struct {
	archiveFlags
	Entry string `arg:"" help:"The entry's id, or a prefix naming only it."`
	NS    string `name:"ns" help:"Only this namespace (db.collection, or the directory name of a collection that no longer exists)."`
	Out   string `short:"o" help:"Write to this file instead of standard output." type:"path"`
}

func (c *rollbackExportCmd) Run(e *env) error {
	dir, err := c.dir()
	if err != nil {
		return err
	}
	m, err := recovery.Find(dir, c.Entry)
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	w := e.stdout
	if c.Out != "" {
		f, err := os.OpenFile(c.Out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		if err != nil {
			return fail(exitFailed, "export: %v", err)
		}
		defer f.Close()
		w = f
	}
	n, err := recovery.Export(dir, m, c.NS, w)
	fmt.Fprintf(e.stderr, "%d documents exported from %s\n", n, m.ID)
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	return nil
}

func namespaces(m recovery.Manifest) []string {
	var out []string
	for _, f := range m.Files {
		ns := f.Namespace
		if ns == "" {
			ns = f.Dir
		}
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	return out
}

func damaged(m recovery.Manifest) bool {
	return slices.ContainsFunc(m.Files, func(f recovery.ManifestFile) bool { return f.Damaged != "" })
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
