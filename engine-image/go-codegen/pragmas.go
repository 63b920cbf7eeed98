package main

// Doc comments: the description, and the `+name` / `+name=value` pragma lines
// (values are JSON when they parse as JSON, otherwise the rest of the line).

import (
	"encoding/json"
	"strings"
	"unicode"
)

func pragmas(text string) (string, map[string]any) {
	out := map[string]any{}
	var doc []string
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if !strings.HasPrefix(t, "+") || len(t) < 2 || !unicode.IsLetter(rune(t[1])) {
			doc = append(doc, line)
			continue
		}
		key, value, hasValue := strings.Cut(t[1:], "=")
		key = strings.TrimSpace(key)
		if !hasValue {
			out[key] = nil
			continue
		}
		value = strings.TrimSpace(value)
		var v any
		if err := json.Unmarshal([]byte(value), &v); err == nil {
			out[key] = v
		} else {
			out[key] = value
		}
	}
	return strings.TrimSpace(strings.Join(doc, "\n")), out
}

// jsonText: a pragma value as JSON text.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// words splits a name at case changes, digits runs and separators.
func words(s string) []string {
	var out []string
	var cur []rune
	rs := []rune(s)
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = nil
		}
	}
	for i, r := range rs {
		switch {
		case r == '-' || r == '_' || r == ' ' || r == '.':
			flush()
		case unicode.IsUpper(r):
			if len(cur) > 0 && (unicode.IsLower(cur[len(cur)-1]) || unicode.IsDigit(cur[len(cur)-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				flush()
			}
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return out
}

func camel(s string) string {
	var b strings.Builder
	for _, w := range words(s) {
		b.WriteString(strings.ToUpper(w[:1]) + strings.ToLower(w[1:]))
	}
	return b.String()
}

func kebab(s string) string {
	ws := words(s)
	for i, w := range ws {
		ws[i] = strings.ToLower(w)
	}
	return strings.Join(ws, "-")
}
