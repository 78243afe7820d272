package mongoemu

// memberState numbers are mongod's (spec §3.1).
type memberState int

const (
	stateStartup    memberState = 0
	statePrimary    memberState = 1
	stateSecondary  memberState = 2
	stateRecovering memberState = 3
	stateStartup2   memberState = 5
	stateUnknown    memberState = 6
	stateArbiter    memberState = 7
	stateDown       memberState = 8
	stateRollback   memberState = 9
	stateRemoved    memberState = 10
)

func (s memberState) String() string {
	switch s {
	case stateStartup:
		return "STARTUP"
	case statePrimary:
		return "PRIMARY"
	case stateSecondary:
		return "SECONDARY"
	case stateRecovering:
		return "RECOVERING"
	case stateStartup2:
		return "STARTUP2"
	case stateUnknown:
		return "UNKNOWN"
	case stateArbiter:
		return "ARBITER"
	case stateDown:
		return "DOWN"
	case stateRollback:
		return "ROLLBACK"
	case stateRemoved:
		return "REMOVED"
	}
	return "UNKNOWN"
}

// leaderMode is where a primary is on its way to accepting writes (spec §5.4).
type leaderMode int

const (
	leaderNone leaderMode = iota
	leaderCatchUp
	leaderDrain
	leaderWritable
	leaderSteppingDown // a conditional stepdown is in progress: writes refused (spec §5.5)
)
