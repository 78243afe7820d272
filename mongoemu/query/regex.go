package query

import (
	"regexp"
	"strings"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// mongod's codes for bad regexes (no names in mongoerr yet).
const (
	codeInvalidRegexFlag mongoerr.Code = 51108
	codeInvalidRegex     mongoerr.Code = 51091
)

// compileRegex translates a PCRE pattern with mongod's options into Go's
// RE2. Options i, m and s map to RE2 flags; x strips unescaped whitespace and
// #-comments first because RE2 has no extended mode; l and u are accepted
// and ignored (RE2 is always UTF-8). PCRE-only constructs (lookaround,
// backreferences) fail to compile and are reported like mongod's invalid
// regex error.
func compileRegex(pattern, options string) (*regexp.Regexp, error) {
	flags := ""
	for _, o := range options {
		switch o {
		case 'i', 'm', 's':
			if !strings.ContainsRune(flags, o) {
				flags += string(o)
			}
		case 'x':
			pattern = stripExtended(pattern)
		case 'l', 'u':
		default:
			return nil, mongoerr.New(codeInvalidRegexFlag, "invalid flag in regex options: %c", o)
		}
	}
	if flags != "" {
		pattern = "(?" + flags + ")" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, mongoerr.New(codeInvalidRegex, "Regular expression is invalid: %v", err)
	}
	return re, nil
}

// stripExtended removes the whitespace and comments PCRE's x option ignores.
func stripExtended(p string) string {
	var sb strings.Builder
	inClass, comment := false, false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case comment:
			comment = c != '\n'
			continue
		case c == '\\' && i+1 < len(p):
			sb.WriteByte(c)
			i++
			sb.WriteByte(p[i])
			continue
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			continue
		case c == '#':
			comment = true
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}
