package supervisor

import "github.com/rsguard/rsguard/config"

// InsecureGossipWarning is the /readyz and status warning of a sidecar running without a gossip
// keyring (gossip.insecure: true).
const InsecureGossipWarning = "gossip is not authenticated (gossip.insecure: true): anyone who reaches the gossip port can join and forge the views of configured sidecars; configure gossip.keyring_file"

// Warnings lists what an operator must know although the sidecar may be ready: they do not make
// it unready (an insecure test set still fails over), but /readyz and the status show them.
func (s *Supervisor) Warnings() []string {
	var w []string
	if !s.gossip.Authenticated() {
		w = append(w, InsecureGossipWarning)
	}
	return w
}

// memberIDs are the configured sidecar ids: the only ones whose views count.
func memberIDs(cfg *config.Config) []string {
	ids := make([]string, len(cfg.Members))
	for i, m := range cfg.Members {
		ids[i] = m.ID
	}
	return ids
}
