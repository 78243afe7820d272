package config

// removedKeys are keys older configurations may still carry. Loading one is an error that says it
// was removed and why, rather than a silent no-op or a bare "unknown key".
var removedKeys = map[string]string{
	"failover.allow_force_reconfig": "was removed: rsguard never force-reconfigures a replica set " +
		"(a force reconfig can lose majority-committed writes, spec §4.6); delete the key",
}

func removedKeyMsg(key string) string {
	if why, ok := removedKeys[key]; ok {
		return why
	}
	return ""
}
