package recovery

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// unitName is a service unit name as systemd accepts it (systemd.unit(5) "Description": letters,
// digits, ":-_.\", an optional "@instance"), not starting with "-" so that systemctl never
// takes it for a flag. Only a service has a main process to watch.
var unitName = regexp.MustCompile(`^[A-Za-z0-9:_.\\][A-Za-z0-9:_.\\-]*(@[A-Za-z0-9:_.\\-]+)?\.service$`)

// invocationID is systemd's 128-bit invocation id as show prints it.
var invocationID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// unitProperties are the properties systemctl show is asked for; it prints them as KEY=VALUE
// lines in its own order.
var unitProperties = []string{"ActiveState", "SubState", "Result", "MainPID", "ExecMainCode", "ExecMainStatus", "InvocationID"}

// unitState is what systemctl show says of a service unit.
type unitState struct {
	Active, Sub, Result string
	MainPID             int
	// ExecMainCode is the main process's si_code (1 exited, 2 killed, 3 dumped; 0 while it
	// runs or never ran) and ExecMainStatus its exit status or signal number.
	ExecMainCode, ExecMainStatus int
	// Invocation is the InvocationID of the current or last run (systemd 232+), "" if unknown:
	// the journal lines of that run carry it as _SYSTEMD_INVOCATION_ID.
	Invocation string
}

// parseShow reads systemctl show output; unknown keys are ignored, a missing ActiveState is an
// error (the unit was not shown at all).
func parseShow(out string) (unitState, error) {
	var u unitState
	num := func(k, v string) (int, error) {
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%s=%q: %w", k, v, err)
		}
		return n, nil
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		var err error
		switch k {
		case "ActiveState":
			u.Active = v
		case "SubState":
			u.Sub = v
		case "Result":
			u.Result = v
		case "InvocationID":
			u.Invocation = v
		case "MainPID":
			u.MainPID, err = num(k, v)
		case "ExecMainCode":
			u.ExecMainCode, err = num(k, v)
		case "ExecMainStatus":
			u.ExecMainStatus, err = num(k, v)
		}
		if err != nil {
			return unitState{}, err
		}
	}
	if u.Active == "" {
		return unitState{}, fmt.Errorf("no ActiveState in %.200q", out)
	}
	return u, nil
}

// running: active, reloading, or activating on the way up. "activating" in SubState
// "auto-restart" (systemd's Restart= waiting out RestartSec) is a main process that has exited.
func (u unitState) running() bool {
	switch u.Active {
	case "active", "reloading", "refreshing":
		return true
	case "activating":
		return !strings.HasPrefix(u.Sub, "auto-restart")
	}
	return false
}

// ended says how the main process ended, nil when it exited 0 with Result=success or nothing is
// known.
func (u unitState) ended() error {
	var how string
	switch u.ExecMainCode {
	case 1: // CLD_EXITED
		if u.ExecMainStatus != 0 {
			how = fmt.Sprintf("exited with status %d", u.ExecMainStatus)
		}
	case 2: // CLD_KILLED
		how = fmt.Sprintf("killed by signal %d (%s)", u.ExecMainStatus, syscall.Signal(u.ExecMainStatus))
	case 3: // CLD_DUMPED
		how = fmt.Sprintf("killed by signal %d (%s), core dumped", u.ExecMainStatus, syscall.Signal(u.ExecMainStatus))
	}
	if u.Result != "" && u.Result != "success" {
		how = strings.TrimPrefix(how+", Result="+u.Result, ", ")
	}
	if how == "" {
		return nil
	}
	return fmt.Errorf("main process %s", how)
}

// fatalMarkers pick mongod's fatal lines out of the journal: fassert, "Fatal assertion",
// "Fatal Error" and an unrecoverable rollback (mongod-spec §7.7).
var fatalMarkers = []string{"Fatal", "fassert", "UnrecoverableRollbackError"}

// lastFatalLine is the last journal line with a fatal marker, at most 500 bytes; "" if none.
func lastFatalLine(journal string) string {
	lines := strings.Split(strings.TrimSpace(journal), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		for _, m := range fatalMarkers {
			if strings.Contains(l, m) {
				if len(l) > 500 {
					l = l[:500]
				}
				return l
			}
		}
	}
	return ""
}
