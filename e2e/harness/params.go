package harness

import "maps"

// SetStartupParameter sets (value != "") or removes (value == "") a --setParameter for h's
// next Start, e.g. failpoint.rsSyncApplyStop={"mode":"alwaysOn"} to hold a restarted member in
// RECOVERING as mongod's own tests do. Other hosts are not affected.
func (h *Host) SetStartupParameter(name, value string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := maps.Clone(h.params) // hosts of a cluster may share one map
	if p == nil {
		p = map[string]string{}
	}
	if value == "" {
		delete(p, name)
	} else {
		p[name] = value
	}
	h.params = p
	h.proc.Args = h.Args() // the process was built with the command line of the first start
}
