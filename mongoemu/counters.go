package mongoemu

import "sync/atomic"

// opCounters feed serverStatus opcounters and connections (spec §6.10).
type opCounters struct {
	insert, query, update, delete, getmore, command atomic.Int64
	connCurrent, connTotal                          atomic.Int64
}

func (o *opCounters) countCommand(name string) {
	switch name {
	case "insert":
		// per-document counts are added by the insert command itself
	case "find":
		o.query.Add(1)
	case "update":
	case "delete":
	case "getMore":
		o.getmore.Add(1)
	default:
		o.command.Add(1)
	}
}

func (o *opCounters) connOpened() { o.connCurrent.Add(1); o.connTotal.Add(1) }
func (o *opCounters) connClosed() { o.connCurrent.Add(-1) }
