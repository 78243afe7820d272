package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds what Load reads: a sidecar config is a few kilobytes.
const maxFileSize = 1 << 20

// Load reads, decodes, validates the file at path and reads the secrets it names. Relative
// paths inside the file are resolved against the file's directory. The error, if any, is an
// Errors listing every problem found.
func Load(path string) (*Config, error) {
	return load(path, osSystem{})
}

func load(path string, sys system) (*Config, error) {
	data, err := sys.ReadFile(path, maxFileSize)
	if err != nil {
		return nil, Errors{{File: path, Msg: "cannot read config file: " + errText(err), Err: err}}
	}
	base := filepath.Dir(path)
	if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	return parse(path, base, data, sys)
}

// Parse decodes and validates data as the file name (used in messages; relative paths in the
// file are resolved against its directory) and reads the secrets it names from the file system
// and the environment.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, filepath.Dir(name), data, osSystem{})
}

func parse(name, base string, data []byte, sys system) (*Config, error) {
	if name == "" {
		name = "<config>"
	}
	p := &problems{file: name, pos: map[string]pos{}}
	root, err := parseYAML(data)
	if err != nil {
		ps, msg := yamlErr(err)
		p.atPos(ps, "", msg+tabHint(data, ps.line))
		return nil, p.result()
	}
	c := Default()
	c.src = &source{file: name, pos: p.pos}
	decoder{p}.decode(root, reflect.ValueOf(&c).Elem(), "")
	c.deriveDefaults(func(key string) bool { _, ok := p.pos[key]; return ok })
	c.resolvePaths(base)
	validate(&c, p)
	readSecrets(&c, p, sys)
	if err := p.result(); err != nil {
		return nil, err
	}
	return &c, nil
}

// parseYAML returns the root mapping of a single-document YAML file.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		// The parser is third-party code fed untrusted bytes: a panic in it is a bad file, not a
		// reason to take the sidecar (or validate-config) down.
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("file is empty")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("file holds no YAML document")
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("line %d: only one YAML document is allowed", extra.Line)
	}
	root = &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	root = resolveAlias(root)
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, errors.New("the top level must be a mapping of keys (id:, mode:, ...)")
	}
	return root, nil
}

// yamlErr pulls "line N" out of a parser message so that it lands in Error.Line instead.
func yamlErr(err error) (pos, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return pos{}, msg
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end <= 0 {
		return pos{}, msg
	}
	n, _ := strconv.Atoi(rest[:end])
	return pos{line: n}, strings.TrimPrefix(rest[end:], ": ")
}

// tabHint explains the parser's complaint about a line indented with a tab.
func tabHint(data []byte, line int) string {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return ""
	}
	indent := lines[line-1][:len(lines[line-1])-len(bytes.TrimLeft(lines[line-1], " \t"))]
	if bytes.IndexByte(indent, '\t') >= 0 {
		return " (indent with spaces: YAML does not allow tabs)"
	}
	return ""
}

// system is the file system and environment secrets are read from; tests substitute a fake.
type system interface {
	LookupEnv(name string) (string, bool)
	// ReadFile reads a regular file of at most limit bytes.
	ReadFile(path string, limit int64) ([]byte, error)
	// LookPath finds an executable as exec.LookPath does (PATH for a bare name).
	LookPath(file string) (string, error)
}

type osSystem struct{}

func (osSystem) LookupEnv(name string) (string, bool) { return os.LookupEnv(name) }

func (osSystem) LookPath(file string) (string, error) { return exec.LookPath(file) }

func (osSystem) ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// errText is err's message without a repeated "open <path>: " prefix.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
