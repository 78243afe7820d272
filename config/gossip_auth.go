package config

// validateGossipAuth makes authenticated gossip the default. Without a keyring anyone who reaches
// the gossip port can join the sidecars' cluster and push views in the name of a configured
// sidecar, forging a quorum that the primary is dead; so a missing gossip.keyring_file is an
// error unless the file says gossip.insecure: true, and saying both is a contradiction.
func validateGossipAuth(k checker, c *Config) {
	g := &c.Gossip
	switch {
	case k.p.failed("gossip.insecure"):
		// insecure: yes and the like are reported by the decoder; no second complaint.
	case g.KeyringFile == "" && !g.Insecure:
		k.errf("gossip.keyring_file", "is required: without a keyring anyone who reaches the gossip port "+
			"can join and forge the views of configured sidecars. Put the same base64 key (16, 24 or 32 bytes, "+
			"e.g. `head -c 32 /dev/urandom | base64`) in a file on every sidecar and name it here, "+
			"or set gossip.insecure: true to run unauthenticated (not for production)")
	case g.KeyringFile != "" && g.Insecure:
		k.errf("gossip.insecure", "cannot be true while gossip.keyring_file is set: remove one of them")
	}
}
