package topology

// ConfigPrint is the fingerprint of the settings every sidecar of the set must agree on
// (config.Agreement): the set name, the members list and the failover policy. A sidecar that sees
// a peer with another Sum is not ready and names the keys whose digests differ.
type ConfigPrint struct {
	// Sum is the overall fingerprint (16 hex digits).
	Sum string `json:"sum,omitempty"`
	// Keys maps each agreed key (its yaml path, such as failover.anti_flap_window) to its digest
	// (8 hex digits).
	Keys map[string]string `json:"keys,omitempty"`
}

// IsZero reports a view without a fingerprint (a sidecar of an older release).
func (p ConfigPrint) IsZero() bool { return p.Sum == "" }
