package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"reflect"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"go.yaml.in/yaml/v3"
)

// field is one key of a configuration struct.
type field struct {
	name string
	typ  reflect.Type
}

// fieldsOf yields the keys of a struct type, from its mapstructure tags;
// embedded ",squash" structs give their own keys, "-" fields none.
func fieldsOf(t reflect.Type) iter.Seq[field] {
	return func(yield func(field) bool) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			if tag == "-" || !f.IsExported() {
				continue
			}
			if opts == "squash" {
				for sub := range fieldsOf(f.Type) {
					if !yield(sub) {
						return
					}
				}
				continue
			}
			if tag == "" {
				tag = strings.ToLower(f.Name)
			}
			if !yield(field{tag, f.Type}) {
				return
			}
		}
	}
}

// parseYAML parses a configuration file into its document node.
func parseYAML(b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // empty, or comments only
		}
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("line %d: a second YAML document: a configuration is one document", extra.Line)
	}
	return &doc, nil
}

// checkDocument checks a configuration document against Config: the old
// sources layout, then every key and value type in the order of the file,
// each error with its line. It returns the line of every key (its path:
// "sources[1].interval") for the messages of later checks.
func checkDocument(doc *yaml.Node, path string) (map[string]int, error) {
	if doc == nil || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want a mapping of keys (cluster:, sources:, ...)", root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "sources" && root.Content[i+1].Kind == yaml.MappingNode {
			return nil, oldLayout(root.Content[i+1], path)
		}
	}
	c := &checker{path: path, lines: map[string]int{}}
	c.mapping(root, reflect.TypeFor[Config](), "", map[string]func(*yaml.Node, string){
		"sources": c.sources,
	})
	slices.SortStableFunc(c.errs, func(a, b lineError) int { return a.line - b.line })
	errs := make([]error, len(c.errs))
	for i, e := range c.errs {
		errs[i] = e
	}
	return c.lines, errors.Join(errs...)
}

// lineError is a configuration error at a line of the file.
type lineError struct {
	path string
	line int
	key  string
	msg  string
}

func (e lineError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.path, e.line, e.key, e.msg)
}

type checker struct {
	path  string
	errs  []lineError
	lines map[string]int
}

func (c *checker) fail(n *yaml.Node, key, format string, args ...any) {
	c.errs = append(c.errs, lineError{c.path, n.Line, key, fmt.Sprintf(format, args...)})
}

// mapping checks a mapping node against the keys of struct type t; extra
// holds keys checked by their own function (the sources list).
func (c *checker) mapping(n *yaml.Node, t reflect.Type, prefix string, extra map[string]func(*yaml.Node, string)) {
	known := map[string]reflect.Type{}
	for f := range fieldsOf(t) {
		known[f.name] = f.typ
	}
	c.keys(n, prefix, known, extra)
}

// keys checks the keys of mapping n: each known, once, lower case, and its
// value of the key's type.
func (c *checker) keys(n *yaml.Node, prefix string, known map[string]reflect.Type, extra map[string]func(*yaml.Node, string)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		if k.Kind != yaml.ScalarNode {
			c.fail(k, prefix+"?", "a key must be a plain word")
			continue
		}
		if line, dup := seen[k.Value]; dup {
			c.fail(k, key, "duplicate key (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		c.lines[key] = k.Line
		if f, ok := extra[k.Value]; ok {
			f(val, key)
			continue
		}
		typ, ok := known[k.Value]
		if !ok {
			c.unknown(k, key, known, extra)
			continue
		}
		c.value(val, typ, key)
	}
}

// unknown reports an unknown key, naming the one it mis-cases.
func (c *checker) unknown(k *yaml.Node, key string, known map[string]reflect.Type, extra map[string]func(*yaml.Node, string)) {
	var names []string
	for name := range known {
		names = append(names, name)
	}
	for name := range extra {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if strings.EqualFold(name, k.Value) {
			c.fail(k, key, "keys are lower case: write %q", name)
			return
		}
	}
	c.fail(k, key, "unknown key (known here: %s)", strings.Join(names, ", "))
}

// value checks a value node against a Go type.
func (c *checker) value(n *yaml.Node, t reflect.Type, key string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // the key's default
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
			c.fail(n, key, "%s: want a duration with a unit, such as \"60s\"", show(n))
			return
		}
		if _, err := parseDuration(n.Value); err != nil {
			c.fail(n, key, "%v", err)
		}
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!timestamp") {
			c.fail(n, key, "%s: want a string (quote it)", show(n))
		}
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			c.fail(n, key, "%s: want true or false", show(n))
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.fail(n, key, "%s: want a list", show(n))
			return
		}
		for i, e := range n.Content {
			c.lines[fmt.Sprintf("%s[%d]", key, i)] = e.Line
			c.value(e, t.Elem(), fmt.Sprintf("%s[%d]", key, i))
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.fail(n, key, "%s: want a mapping", show(n))
			return
		}
		c.mapping(n, t, key+".", nil)
	default:
		c.fail(n, key, "unsupported type %s", t)
	}
}

// sources checks the sources list: each entry a mapping with a known kind
// and the keys of that kind.
func (c *checker) sources(n *yaml.Node, key string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.SequenceNode {
		c.fail(n, key, "%s: want a list of sources, such as [{kind: sacct}]", show(n))
		return
	}
	for i, e := range n.Content {
		ek := fmt.Sprintf("%s[%d]", key, i)
		c.lines[ek] = e.Line
		if e.Kind != yaml.MappingNode {
			c.fail(e, ek, "%s: want a mapping with a kind", show(e))
			continue
		}
		var kind *yaml.Node
		for j := 0; j+1 < len(e.Content); j += 2 {
			if e.Content[j].Value == "kind" {
				kind = e.Content[j+1]
			}
		}
		if kind == nil || kind.Kind != yaml.ScalarNode {
			c.fail(e, ek+".kind", "required: one of %s", strings.Join(kindNames(), ", "))
			continue
		}
		k, ok := lookupKind(kind.Value)
		if !ok {
			c.fail(kind, ek+".kind", "%q: want one of %s", kind.Value, strings.Join(kindNames(), ", "))
			continue
		}
		known := map[string]reflect.Type{}
		for f := range fieldsOf(reflect.TypeFor[SourceConfig]()) {
			known[f.name] = f.typ
		}
		for f := range fieldsOf(reflect.TypeOf(k.spec()).Elem()) {
			known[f.name] = f.typ
		}
		c.keys(e, ek+".", known, nil)
	}
}

// show quotes a value node for a message.
func show(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return "this value"
}

// oldKinds maps the keys of the old `sources:` map to the kind (and
// format) and the default name they had, in the order they are converted.
var oldKinds = []struct{ key, kind, format, name string }{
	{"sacct", "sacct", "", "sacct"},
	{"nodes", "scontrol", "", "nodes"},
	{"jobcomp", "tail", "slurm-jobcomp", "jobcomp"},
	{"pbs", "tail", "pbs", "pbs"},
	{"dumps", "dump", "slurm-sacct", "dumps"},
}

// oldLayout refuses the old `sources:` map (sacct:, nodes:, jobcomp:, pbs:,
// dumps:) with the equivalent list, each entry named as it was named
// before so that it continues from its stored cursor.
func oldLayout(m *yaml.Node, path string) error {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	scalar := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }
	for _, ok := range oldKinds {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value != ok.key || m.Content[i+1].Kind != yaml.SequenceNode {
				continue
			}
			for _, item := range m.Content[i+1].Content {
				entry := &yaml.Node{Kind: yaml.MappingNode}
				name := ok.name
				var rest []*yaml.Node
				if item.Kind == yaml.MappingNode {
					for j := 0; j+1 < len(item.Content); j += 2 {
						if item.Content[j].Value == "name" {
							name = item.Content[j+1].Value
							continue
						}
						v := item.Content[j+1]
						v.Style &^= yaml.FlowStyle
						rest = append(rest, item.Content[j], v)
					}
				}
				entry.Content = append(entry.Content, scalar("name"), scalar(name), scalar("kind"), scalar(ok.kind))
				if ok.format != "" {
					entry.Content = append(entry.Content, scalar("format"), scalar(ok.format))
				}
				entry.Content = append(entry.Content, rest...)
				list.Content = append(list.Content, entry)
			}
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	err := enc.Encode(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("sources"), list}})
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		return fmt.Errorf("line %d: sources: the map layout (sacct:, nodes:, jobcomp:, pbs:, dumps:) is replaced by a list of sources with a kind", m.Line)
	}
	return fmt.Errorf("%s:%d: sources: the map layout (sacct:, nodes:, jobcomp:, pbs:, dumps:) is replaced by a list of sources with a kind; the equivalent is:\n\n%s", path, m.Line, b.String())
}

// decodeSource decodes one entry of the sources list (as viper read it):
// its common keys, then its kind's own keys, strictly.
func decodeSource(raw any, key string) (SourceConfig, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return SourceConfig{}, fmt.Errorf("%s: want a mapping with a kind", key)
	}
	var s SourceConfig
	common := map[string]any{}
	rest := map[string]any{}
	for k, v := range m {
		switch k {
		case "name", "kind", "interval":
			common[k] = v
		default:
			rest[k] = v
		}
	}
	if err := strictDecode(common, &s); err != nil {
		return s, fmt.Errorf("%s: %w", key, err)
	}
	k, ok := lookupKind(s.Kind)
	if !ok {
		return s, fmt.Errorf("%s.kind: %q: want one of %s", key, s.Kind, strings.Join(kindNames(), ", "))
	}
	s.spec = k.spec()
	if err := strictDecode(rest, s.spec); err != nil {
		return s, fmt.Errorf("%s: %w", key, err)
	}
	return s, nil
}

func strictDecode(in map[string]any, out any) error {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook: strictHooks, ErrorUnused: true, Result: out, TagName: "mapstructure",
	})
	if err != nil {
		return err
	}
	return dec.Decode(in)
}
