package whatsapp

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// varPattern matches a template variable: {{1}} (positional) or {{first_name}} (named).
var varPattern = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// TemplateVars describes the variables of one template component.
type TemplateVars struct {
	// Count is how many parameters a send must give: the highest {{n}} for positional variables, the
	// number of distinct names for named ones.
	Count int
	// Names lists named variables in order of first appearance; empty for positional templates.
	Names []string
}

// ParseVars finds the variables of a template text ("Hi {{1}}, your order {{2}}" or "Hi {{name}}").
func ParseVars(text string) TemplateVars {
	highest := 0
	seen := map[string]bool{}
	var names []string
	for _, m := range varPattern.FindAllStringSubmatch(text, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil {
			highest = max(highest, n)
			continue
		}
		if !seen[m[1]] {
			seen[m[1]] = true
			names = append(names, m[1])
		}
	}
	return TemplateVars{Count: highest + len(names), Names: names}
}

// Named reports whether the template takes named parameters ({{first_name}}).
func (t Template) Named() bool { return strings.EqualFold(t.ParameterFormat, "NAMED") }

// Component returns the first component of the given type (HEADER, BODY, FOOTER, BUTTONS; any case).
func (t Template) Component(typ string) (TemplateComponent, bool) {
	for _, c := range t.Components {
		if strings.EqualFold(c.Type, typ) {
			return c, true
		}
	}
	return TemplateComponent{}, false
}

// HeaderParams returns the header's variables: those of a TEXT header, or one parameter for a media
// or location header (the file or place to show).
func (t Template) HeaderParams() TemplateVars {
	h, ok := t.Component("HEADER")
	if !ok {
		return TemplateVars{}
	}
	if h.Format == "" || strings.EqualFold(h.Format, "TEXT") {
		return ParseVars(h.Text)
	}
	return TemplateVars{Count: 1}
}

// BodyParams returns the body's variables.
func (t Template) BodyParams() TemplateVars {
	b, _ := t.Component("BODY")
	return ParseVars(b.Text)
}

// ButtonVars are the variables of one button (a URL button with a dynamic suffix).
type ButtonVars struct {
	// Index is the button's position, the index a send's button component must carry.
	Index int
	Type  string
	Vars  TemplateVars
}

// ButtonParams returns the buttons that need a parameter: URL buttons whose URL has a variable.
func (t Template) ButtonParams() []ButtonVars {
	var out []ButtonVars
	c, _ := t.Component("BUTTONS")
	for i, b := range c.Buttons {
		if !strings.EqualFold(b.Type, "URL") {
			continue
		}
		if v := ParseVars(b.URL); v.Count > 0 {
			out = append(out, ButtonVars{Index: i, Type: b.Type, Vars: v})
		}
	}
	return out
}

// CheckParams compares the components of a template send with what the template expects, so a
// mismatch fails locally instead of as Meta's 132000: parameter counts per component, every name of a
// named template, the media type of a media header, and URL button suffixes. Problems are joined
// *ValidationErrors.
func (t Template) CheckParams(components []TemplateComponentParams) error {
	given := map[string][]TemplateParameter{}
	buttons := map[int][]TemplateParameter{}
	for _, c := range components {
		if c.Type == ComponentButton {
			buttons[c.Index] = c.Parameters
		} else {
			given[c.Type] = append(given[c.Type], c.Parameters...)
		}
	}
	var p problems
	p.vars("header", t.HeaderParams(), given[ComponentHeader])
	if h, ok := t.Component("HEADER"); ok && len(given[ComponentHeader]) == 1 {
		switch format := strings.ToLower(h.Format); format {
		case TypeImage, TypeVideo, TypeDocument:
			if got := given[ComponentHeader][0].Type; got != format {
				p.add("header", "the template's header is %s, the parameter is %s", format, got)
			}
		}
	}
	p.vars("body", t.BodyParams(), given[ComponentBody])
	for _, b := range t.ButtonParams() {
		p.vars(fmt.Sprintf("button[%d]", b.Index), b.Vars, buttons[b.Index])
	}
	return errors.Join(p...)
}

// vars checks the parameters given for one component against its variables.
func (p *problems) vars(field string, want TemplateVars, got []TemplateParameter) {
	if len(got) != want.Count {
		p.add(field, "the template expects %d parameters, got %d", want.Count, len(got))
		return
	}
	names := map[string]bool{}
	for _, g := range got {
		names[g.ParameterName] = true
	}
	for _, n := range want.Names {
		if !names[n] {
			p.add(field, "named parameter %q is missing", n)
		}
	}
}
