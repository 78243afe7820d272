package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/kong"
)

// versionText is `supervisor --version`: the main module's version, the VCS revision and time
// the binary was built from (and whether the tree was modified), and the Go version.
func versionText(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "supervisor (no build information)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	var vcs []string
	if rev := settings["vcs.revision"]; rev != "" {
		vcs = append(vcs, "revision "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		vcs = append(vcs, t)
	}
	if settings["vcs.modified"] == "true" {
		vcs = append(vcs, "modified")
	}
	out := "supervisor " + version
	if len(vcs) > 0 {
		out += " (" + strings.Join(vcs, ", ") + ")"
	}
	return out + ", " + info.GoVersion
}

// helpCmd prints what --help prints (for the root, or for the command named after it).
type helpCmd struct {
	Command []string `arg:"" optional:"" help:"The command to explain."`
}

func (c *helpCmd) Run(kctx *kong.Context) error {
	_, err := kctx.Kong.Parse(append(append([]string{}, c.Command...), "--help"))
	if err != nil {
		return fail(exitUsage, "supervisor help: %v", err)
	}
	return fmt.Errorf("supervisor help: --help did not exit")
}
