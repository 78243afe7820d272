package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// docCommand is one `supervisor ...` command line a document shows.
type docCommand struct {
	Where string // file:line
	Line  string // from "supervisor" on
}

// cliDocs are the documents whose commands are checked: every page under docs/, the
// deployment's README and the project's README.
func cliDocs(t *testing.T) []string {
	t.Helper()
	base := root(t)
	var out []string
	err := filepath.Walk(filepath.Join(base, "docs"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".md") {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return append(out, filepath.Join(base, "deploy/README.md"), filepath.Join(base, "README.md"))
}

var (
	fence = regexp.MustCompile("^\\s*(```|~~~)")
	// A command in a code block: "supervisor" at the start of the line or after a prompt, a
	// path, "go run ./cmd/", "docker compose exec SERVICE" and the like, never inside a comment.
	blockCmd = regexp.MustCompile(`(?:^|[\s/$(])supervisor\s+(\S.*)$`)
	spanCmd  = regexp.MustCompile("`supervisor\\s+([^`]+)`")
)

// docCommands extracts the supervisor command lines of the fenced code blocks (a line ending
// with a backslash goes on on the next) and of the inline code spans.
func docCommands(t *testing.T) []docCommand {
	t.Helper()
	base := root(t)
	var out []docCommand
	for _, p := range cliDocs(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(base, p)
		lines := strings.Split(string(data), "\n")
		inBlock := false
		for i := 0; i < len(lines); i++ {
			line := lines[i]
			if fence.MatchString(line) {
				inBlock = !inBlock
				continue
			}
			where := fmt.Sprintf("%s:%d", rel, i+1)
			if !inBlock {
				for _, m := range spanCmd.FindAllStringSubmatch(line, -1) {
					out = append(out, docCommand{Where: where, Line: "supervisor " + m[1]})
				}
				continue
			}
			code := line
			for strings.HasSuffix(strings.TrimSpace(code), `\`) && i+1 < len(lines) && !fence.MatchString(lines[i+1]) {
				code = strings.TrimSuffix(strings.TrimSpace(code), `\`) + " " + strings.TrimSpace(lines[i+1])
				i++
			}
			if c := strings.Index(code, "#"); c >= 0 && strings.Index(code, "supervisor") > c {
				continue // a comment that names the binary
			}
			if m := blockCmd.FindStringSubmatch(code); m != nil {
				out = append(out, docCommand{Where: where, Line: "supervisor " + m[1]})
			}
		}
	}
	return out
}

// shellWords splits a command line as sh would for the purpose of finding the verb and the
// flags: quotes and <placeholders> group, and the command ends at a comment, a pipe, a redirection, a ";", "&&",
// "||" or a closing parenthesis. Brackets of optional parts ("[--force]") are dropped.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	quote := rune(0)
	has := false
	flush := func() {
		if has {
			words = append(words, cur.String())
		}
		cur.Reset()
		has = false
	}
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
				if r == '>' {
					cur.WriteRune(r)
				}
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, has = r, true
		case r == '<' && !has:
			// A placeholder: <old primary> is one word, its ">" no redirection.
			cur.WriteRune(r)
			quote, has = '>', true
		case r == ' ' || r == '\t':
			flush()
		case r == '#' && !has:
			flush()
			return words
		case strings.ContainsRune(";|&>)", r):
			flush()
			return words
		case r == '[' || r == ']':
		default:
			cur.WriteRune(r)
			has = true
		}
	}
	flush()
	return words
}

// cliHelp runs the built binary with args and --help, once per command.
type cliHelp struct {
	bin   string
	cache map[string]helpResult
}

type helpResult struct {
	flags map[string]bool
	err   error
}

var helpFlag = regexp.MustCompile(`(?m)^\s+(?:(-[a-zA-Z]), )?(--[a-z][a-z-]*)`)

func (h *cliHelp) flags(path []string) (map[string]bool, error) {
	key := strings.Join(path, " ")
	if r, ok := h.cache[key]; ok {
		return r.flags, r.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, h.bin, append(append([]string{}, path...), "--help")...).CombinedOutput()
	r := helpResult{flags: map[string]bool{}}
	if err != nil {
		r.err = fmt.Errorf("supervisor %s --help: %v\n%s", key, err, out)
	}
	for _, m := range helpFlag.FindAllStringSubmatch(string(out), -1) {
		if m[1] != "" {
			r.flags[m[1]] = true
		}
		r.flags[m[2]] = true
	}
	h.cache[key] = r
	return r.flags, r.err
}

var errPlaceholder = errors.New("a placeholder, not a command")

var (
	hostPort    = regexp.MustCompile(`^[A-Za-z0-9.-]+:[0-9]+$`)
	placeholder = regexp.MustCompile(`^(<.*>|[A-Z][A-Z_:]*)$`) // <old primary>, HOST, MEMBER
)

// memberArgs returns the words that name a replica-set member: the value of --to, and the
// member of resync run.
func memberArgs(words, path []string) []string {
	var out []string
	for i, w := range words {
		if v, ok := strings.CutPrefix(w, "--to="); ok {
			out = append(out, v)
		} else if w == "--to" && i+1 < len(words) {
			out = append(out, words[i+1])
		}
	}
	if len(path) == 2 && path[0] == "resync" && path[1] == "run" {
		rest := words[2:]
		if len(rest) > 0 && rest[0] == "run" {
			rest = rest[1:]
		}
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			out = append(out, rest[0])
		}
	}
	return out
}

// commandPath finds the command a document's words name: the verb, and for the verbs with
// subcommands (rollback, resync) the subcommand. resync MEMBER is resync run MEMBER.
func commandPath(words []string) ([]string, error) {
	if len(words) < 2 {
		return nil, errors.New("no verb")
	}
	verb := words[1]
	switch {
	case strings.HasPrefix(verb, "-"):
		return nil, nil // global flags (--version, --help)
	case verb == "..." || strings.HasPrefix(verb, "$"):
		return nil, errPlaceholder // "supervisor ...", a shell helper's "$@"
	case verb == "rollback":
		if len(words) < 3 || strings.HasPrefix(words[2], "-") {
			return nil, errors.New("rollback needs list, show or export")
		}
		return []string{"rollback", words[2]}, nil
	case verb == "resync":
		if len(words) > 2 && (words[2] == "watch" || words[2] == "run") {
			return []string{"resync", words[2]}, nil
		}
		return []string{"resync", "run"}, nil
	}
	return []string{verb}, nil
}

// TestDocCommandsMatchCLI: every `supervisor ...` command a document shows names a command the
// built binary has (its --help exits 0) and only flags that command's --help lists. Run the
// binary's --help, not a parse, so that placeholders (HOST, ENTRY, <old primary>) stay valid.
func TestDocCommandsMatchCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the supervisor binary: skipped with -short")
	}
	goTool := lookTool(t, "go", "golang")
	bin := filepath.Join(t.TempDir(), "supervisor")
	run(t, 5*time.Minute, goTool, "build", "-o", bin, "./cmd/supervisor")
	cmds := docCommands(t)
	if len(cmds) < 50 {
		t.Fatalf("found only %d supervisor commands in the docs: the scanner is broken", len(cmds))
	}
	h := &cliHelp{bin: bin, cache: map[string]helpResult{}}
	global, err := h.flags(nil)
	if err != nil || !global["--version"] {
		t.Fatalf("supervisor --help lists no --version (%v): the help parser is broken", err)
	}
	checked := map[string]int{}
	for _, c := range cmds {
		words := shellWords(c.Line)
		path, err := commandPath(words)
		if errors.Is(err, errPlaceholder) {
			continue
		}
		if err != nil {
			t.Errorf("%s: %q: %v", c.Where, c.Line, err)
			continue
		}
		flags, err := h.flags(path)
		if err != nil {
			t.Errorf("%s: %q names no command of the CLI: %v", c.Where, c.Line, err)
			continue
		}
		checked[strings.Join(path, " ")]++
		for _, m := range memberArgs(words, path) {
			if !hostPort.MatchString(m) && !placeholder.MatchString(m) {
				t.Errorf("%s: %q: %s is not a member as the replica set names it (host:port) nor a placeholder", c.Where, c.Line, m)
			}
		}
		for _, w := range words[1:] {
			if !strings.HasPrefix(w, "-") || w == "-" {
				continue
			}
			name, _, _ := strings.Cut(w, "=")
			if !flags[name] && !global[name] {
				t.Errorf("%s: %q: supervisor %s has no flag %s", c.Where, c.Line, strings.Join(path, " "), name)
			}
		}
	}
	var names []string
	for k, n := range checked {
		names = append(names, fmt.Sprintf("%s (%d)", k, n))
	}
	sort.Strings(names)
	t.Logf("checked %d command lines: %s", len(cmds), strings.Join(names, ", "))
	for _, want := range []string{"status", "switchover", "failover", "pause", "resume", "ack", "history"} {
		if checked[want] == 0 {
			t.Errorf("no document shows supervisor %s: the scanner is broken", want)
		}
	}
}
