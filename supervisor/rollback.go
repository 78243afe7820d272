package supervisor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/recovery"
	"github.com/rsguard/rsguard/topology"
)

// The rollback archive (the recovery issue, deliverable 3): a data sidecar that knows its
// mongod's dbpath (recovery.dbpath) moves the rollback files mongod leaves there (spec §7.7 step
// 5) into recovery.rollback_archive, with a manifest, an audit line and a metric, so that the
// writes a rollback undid are found, reviewed (supervisor rollback list|show|export) and, if
// wanted, re-applied. It never touches the files while mongod may still write them: only when
// its own mongod answers as SECONDARY or PRIMARY (not ROLLBACK, not down).

// Audit vocabulary of the archive.
const (
	ActionArchiveRollback election.ActionKind = "archive_rollback"
	ActionPruneRollback   election.ActionKind = "prune_rollback_archive"
	ReasonRollbackFiles   election.Reason     = "rollback_files_found"
	ReasonRetention       election.Reason     = "rollback_retention"
)

type rollbackMetrics struct {
	documents prometheus.Counter
	entries   prometheus.Gauge
	pending   prometheus.Gauge
	errors    prometheus.Counter
}

func newRollbackMetrics(reg prometheus.Registerer) *rollbackMetrics {
	f := promauto.With(reg)
	return &rollbackMetrics{
		documents: f.NewCounter(prometheus.CounterOpts{
			Name: "rsguard_supervisor_rollback_documents_archived_total",
			Help: "Documents found in rollback files and moved to the rollback archive: writes a rollback undid, to review. Alert on any increase.",
		}),
		entries: f.NewGauge(prometheus.GaugeOpts{
			Name: "rsguard_supervisor_rollback_archive_entries",
			Help: "Entries in this sidecar's rollback archive (supervisor rollback list).",
		}),
		pending: f.NewGauge(prometheus.GaugeOpts{
			Name: "rsguard_supervisor_rollback_files_pending",
			Help: "Rollback files in the local dbpath not archived yet (mongod still rolling back, or the archive failing).",
		}),
		errors: f.NewCounter(prometheus.CounterOpts{
			Name: "rsguard_supervisor_rollback_archive_errors_total",
			Help: "Failed scans or moves of rollback files; the log says why.",
		}),
	}
}

// archiveRollback runs one pass: scan, archive when it is safe, prune by retention.
func (s *Supervisor) archiveRollback(ctx context.Context) {
	s.mu.Lock()
	rc := s.cfg.Recovery
	st, reachable := s.local.view.State, s.local.reachable()
	term, source := s.local.view.Term, s.local.obs.Status.SyncSource
	set := s.cfg.ReplicaSet
	s.mu.Unlock()
	if rc.DBPath == "" || rc.RollbackArchive == "" {
		return
	}
	files, err := recovery.ScanRollback(rc.DBPath)
	if err != nil {
		s.rbMetrics.errors.Inc()
		s.logger.Error("cannot scan for rollback files", "dbpath", rc.DBPath, "err", err)
		return
	}
	s.rbMetrics.pending.Set(float64(len(files)))
	if len(files) > 0 && reachable && (st == topology.StateSecondary || st == topology.StatePrimary) && s.rollbackOver(ctx, files) {
		s.archive(ctx, files, recovery.ArchiveMeta{Set: set, Member: s.selfHost, Term: term, SyncSource: source})
	}
	if rc.RollbackRetention > 0 {
		gone, err := recovery.Prune(rc.RollbackArchive, rc.RollbackRetention, s.now())
		if err != nil {
			s.rbMetrics.errors.Inc()
			s.logger.Error("cannot prune the rollback archive", "dir", rc.RollbackArchive, "err", err)
		}
		for _, id := range gone {
			s.logger.Warn("rollback archive entry deleted by retention", "entry", id, "retention", rc.RollbackRetention)
			s.writeAudit(AuditRecord{Time: s.now(), Sidecar: s.id, Set: set, Actor: actorAuto, Result: ResultExecuted,
				Decision: AuditDecision{Action: ActionPruneRollback, Target: s.selfHost}, Reason: ReasonRetention,
				Analysis: AuditAnalysis{Evidence: []string{fmt.Sprintf("entry %s older than recovery.rollback_retention %s", id, rc.RollbackRetention)}}})
		}
	}
	if ms, err := recovery.List(rc.RollbackArchive); err == nil {
		s.rbMetrics.entries.Set(float64(len(ms)))
		if recovery.Unresolved(ms) && reachable {
			if n, err := recovery.ResolveNamespaces(rc.RollbackArchive, s.namespaces(ctx)); err != nil {
				s.logger.Error("cannot update the rollback archive's manifests", "err", err)
			} else if n > 0 {
				s.logger.Info("rollback archive: namespaces resolved", "files", n)
			}
		}
	}
}

// rollbackOver makes sure mongod is done with its rollback files before they move: the last
// observation may be up to a probe interval old, and a member goes SECONDARY -> ROLLBACK -> ... in
// less than that (spec §7.7). It wants the files unchanged since the previous pass (an archive
// interval ago: none still growing), and asks the local mongod now (SECONDARY or PRIMARY).
func (s *Supervisor) rollbackOver(ctx context.Context, files []recovery.RollbackFile) bool {
	var sig strings.Builder
	for _, f := range files {
		fmt.Fprintf(&sig, "%s|%d|%d;", f.Path, f.Bytes, f.Modified.UnixNano())
	}
	s.mu.Lock()
	same := sig.String() == s.rbLastScan
	s.rbLastScan = sig.String()
	s.mu.Unlock()
	if !same {
		return false
	}
	node, err := s.nodes.get(ctx, s.selfHost)
	if err != nil {
		return false
	}
	sctx, cancel := context.WithTimeout(ctx, namespaceTimeout)
	defer cancel()
	st, err := node.Status(sctx)
	return err == nil && (st.MyState == topology.StateSecondary || st.MyState == topology.StatePrimary)
}

// namespaces maps the local mongod's collection UUIDs to namespaces; nil when it cannot tell.
// Not on the hot path: it may take a few seconds on a busy member.
func (s *Supervisor) namespaces(ctx context.Context) map[string]string {
	node, err := s.nodes.get(ctx, s.selfHost)
	if err != nil {
		return nil
	}
	r, ok := node.(mongo.CollectionResolver)
	if !ok {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, namespaceTimeout)
	defer cancel()
	ns, err := r.CollectionsByUUID(rctx)
	if err != nil {
		// The files are archived all the same; the manifest names their UUIDs until a later
		// pass resolves them (archiveRollback).
		s.logger.Warn("cannot resolve collection UUIDs of rollback files", "err", err)
		return nil
	}
	return ns
}

// namespaceTimeout bounds the listDatabases/listCollections round.
const namespaceTimeout = 10 * time.Second

func (s *Supervisor) archive(ctx context.Context, files []recovery.RollbackFile, meta recovery.ArchiveMeta) {
	meta.Namespaces = s.namespaces(ctx)
	meta.Now = s.now()
	rc := s.cfg.Recovery
	m, err := recovery.Archive(rc.RollbackArchive, files, meta)
	rec := AuditRecord{Time: meta.Now, Sidecar: s.id, Set: meta.Set, Actor: actorAuto, Reason: ReasonRollbackFiles,
		Decision: AuditDecision{Action: ActionArchiveRollback, Target: s.selfHost}}
	if err != nil {
		s.rbMetrics.errors.Inc()
		s.logger.Error("cannot archive rollback files", "files", len(files), "archive", rc.RollbackArchive, "err", err)
		rec.Result = resultFailed + err.Error()
		s.writeAudit(rec)
		return
	}
	if m == nil {
		return
	}
	rec.Result = ResultExecuted
	rec.Analysis.Term = m.Term
	rec.Analysis.Evidence = append(rec.Analysis.Evidence, fmt.Sprintf("entry %s: %d documents in %d files, %d bytes, rolled back against %s in term %d",
		m.ID, m.Documents, len(m.Files), m.Bytes, m.SyncSource, m.Term))
	for _, f := range m.Files {
		ns := f.Namespace
		if ns == "" {
			ns = "collection " + f.Dir + " (not found: dropped?)"
		}
		rec.Analysis.Evidence = append(rec.Analysis.Evidence, fmt.Sprintf("%s: %d documents", ns, f.Documents))
	}
	s.writeAudit(rec)
	s.recordRollback(m.ID, m.Documents, len(m.Files), m.Term, meta.Now)
	s.rbMetrics.documents.Add(float64(m.Documents))
	s.rbMetrics.pending.Set(0)
	s.logger.Warn("rollback files archived: writes undid by a rollback, to review with `supervisor rollback show`",
		"entry", m.ID, "documents", m.Documents, "files", len(m.Files), "archive", rc.RollbackArchive)
}
