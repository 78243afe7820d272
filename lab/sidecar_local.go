package lab

import "time"

// Sidecar timings of a local set run for a person (the demo, `supervisor drill`): a 500ms probe,
// the fastest the defaults' rules allow without making a slow laptop look sick. Election timings
// stay MongoDB's defaults: the point is rsguard against MongoDB's own ~12 s.
const (
	LocalProbeInterval = 500 * time.Millisecond
	LocalSettle        = time.Second
)

// LocalSidecarOptions are the config files of a local set run for a person: one directory dir a
// person can read (LayoutFlat), free ports, the timings above, an anti-flap window of 5m, log
// level info, and each data sidecar running its mongod (process.controller exec), so that
// rsguard restarts, fences and resyncs it as it would in production. The gossip keyring and
// the admin token are fresh unless dir already holds them. Callers set Header and ArbiterID.
func LocalSidecarOptions(dir, keyringComment string) (SidecarOptions, error) {
	keyring, err := NewKeyring(keyringComment)
	if err != nil {
		return SidecarOptions{}, err
	}
	return SidecarOptions{
		Layout: LayoutFlat, Dir: dir, FreePorts: true, Keyring: keyring,
		ProbeInterval: LocalProbeInterval, WriteProbeInterval: LocalProbeInterval,
		Settle: LocalSettle, ConnectTimeout: time.Second, AntiFlapWindow: 5 * time.Minute,
		LogLevel: "info", Exec: true,
	}, nil
}
