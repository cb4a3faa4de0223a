package pipeline

// The template a business message sends: the request an agent makes, checked against the synced
// template and turned into Meta's components before anything is queued.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"switchboard"
	"switchboard/whatsapp"
)

// TemplateRequest sends an approved template. Params fill the body variables: a JSON array for
// positional templates ({{1}}, {{2}}) or an object for named ones ({{first_name}}). HeaderParams
// fill the header: its text variables, or the one image, video or document of a media header.
type TemplateRequest struct {
	Name         string          `json:"name"`
	Language     string          `json:"language"`
	Params       json.RawMessage `json:"params,omitempty"`
	HeaderParams []HeaderParam   `json:"header_params,omitempty"`
	ButtonParams []ButtonParam   `json:"button_params,omitempty"`
}

// HeaderParam fills a template header. In JSON it is a string (a TEXT header's variable, as before)
// or an object: {"type": "text", "text": "..."}, or the file of an IMAGE, VIDEO or DOCUMENT header
// by link or by a media id uploaded to Meta: {"type": "image", "link": "https://..."},
// {"type": "document", "id": "1234", "filename": "invoice.pdf"} (a filename on documents only).
type HeaderParam struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Link     string `json:"link,omitempty"`
	ID       string `json:"id,omitempty"`
	Filename string `json:"filename,omitempty"`
	// malformed marks a value that is neither a string nor an object, reported as a field error.
	malformed bool
}

// UnmarshalJSON accepts a string or an object; any other value is kept as malformed so the check
// can name the field instead of refusing the whole body.
func (h *HeaderParam) UnmarshalJSON(b []byte) error {
	var text string
	if json.Unmarshal(b, &text) == nil {
		*h = HeaderParam{Type: "text", Text: text}
		return nil
	}
	type plain HeaderParam
	var p plain
	if err := json.Unmarshal(b, &p); err != nil || len(b) == 0 || b[0] != '{' {
		*h = HeaderParam{malformed: true}
		return nil
	}
	*h = HeaderParam(p)
	return nil
}

// ButtonParam fills a template button: a quick reply's payload or a URL button's suffix.
type ButtonParam struct {
	Index   int    `json:"index"`
	SubType string `json:"sub_type"`
	Value   string `json:"value"`
}

// templateJSON rebuilds the template object Meta lists from the cached row.
func templateJSON(t *switchboard.Template) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"id": t.ExternalID, "name": t.Name, "language": t.Language, "status": t.Status,
		"category": t.Category, "parameter_format": t.ParameterFormat, "components": json.RawMessage(orEmpty(t.Components))})
	return b
}

func orEmpty(b []byte) []byte {
	if len(b) == 0 {
		return []byte("[]")
	}
	return b
}

// buildTemplate turns the request's parameters into Meta's components and checks them locally
// (count and kind), so a bad request is refused before anything is queued.
func buildTemplate(t whatsapp.Template, tr *TemplateRequest) (*whatsapp.TemplateMessage, error) {
	msg := &whatsapp.TemplateMessage{Name: tr.Name, Language: tr.Language}
	var body []whatsapp.TemplateParameter
	if len(tr.Params) > 0 && string(tr.Params) != "null" {
		var list []string
		var named map[string]string
		switch {
		case json.Unmarshal(tr.Params, &list) == nil:
			if t.Named() {
				return nil, switchboard.FieldError("template.params", "This template has named variables; send an object such as {\"first_name\": \"Ana\"}.")
			}
			for _, v := range list {
				body = append(body, whatsapp.TextParam(v))
			}
		case json.Unmarshal(tr.Params, &named) == nil:
			if !t.Named() {
				return nil, switchboard.FieldError("template.params", "This template has numbered variables; send a list of values.")
			}
			for _, name := range t.BodyParams().Names {
				if v, ok := named[name]; ok {
					body = append(body, whatsapp.NamedTextParam(name, v))
				}
			}
			if len(named) != len(body) {
				return nil, switchboard.FieldError("template.params", "Some names are not variables of this template.")
			}
		default:
			return nil, switchboard.FieldError("template.params", "Send a list of values (or an object for named variables).")
		}
	}
	hp, err := headerParameters(t, tr.HeaderParams)
	if err != nil {
		return nil, err
	}
	if len(hp) > 0 {
		msg.Components = append(msg.Components, whatsapp.TemplateComponentParams{Type: whatsapp.ComponentHeader, Parameters: hp})
	}
	if len(body) > 0 {
		msg.Components = append(msg.Components, whatsapp.TemplateComponentParams{Type: whatsapp.ComponentBody, Parameters: body})
	}
	for _, b := range tr.ButtonParams {
		param := whatsapp.TextParam(b.Value)
		if b.SubType == "quick_reply" {
			param = whatsapp.PayloadParam(b.Value)
		}
		msg.Components = append(msg.Components, whatsapp.TemplateComponentParams{Type: whatsapp.ComponentButton, SubType: b.SubType,
			Index: b.Index, Parameters: []whatsapp.TemplateParameter{param}})
	}
	for _, v := range body {
		if strings.TrimSpace(v.Text) == "" {
			return nil, switchboard.FieldError("template.params", "Every variable needs a value.")
		}
	}
	if err := t.CheckParams(msg.Components); err != nil {
		return nil, paramsError(err)
	}
	return msg, nil
}

// headerField is the request field header problems are reported on.
const headerField = "template.header_params"

// headerParameters checks the header parameters against the synced template's header format and
// returns Meta's parameters: text values for a TEXT header (their count is checked with the rest),
// exactly one image, video or document, by link or uploaded media id, for a media header.
func headerParameters(t whatsapp.Template, given []HeaderParam) ([]whatsapp.TemplateParameter, error) {
	h, ok := t.Component("HEADER")
	format := strings.ToLower(h.Format)
	switch {
	case !ok:
		if len(given) > 0 {
			return nil, switchboard.FieldError(headerField, "This template has no header.")
		}
		return nil, nil
	case format == "" || format == "text":
		names := t.HeaderParams().Names
		out := make([]whatsapp.TemplateParameter, 0, len(given))
		for i, p := range given {
			if kind := strings.ToLower(strings.TrimSpace(p.Type)); p.malformed || kind != "" && kind != "text" || p.Link != "" || p.ID != "" {
				return nil, switchboard.FieldError(headerField, "This template's header is text: send its variables as text.")
			}
			if strings.TrimSpace(p.Text) == "" {
				return nil, switchboard.FieldError(headerField, "Every variable needs a value.")
			}
			if t.Named() && i < len(names) {
				out = append(out, whatsapp.NamedTextParam(names[i], p.Text))
			} else {
				out = append(out, whatsapp.TextParam(p.Text))
			}
		}
		return out, nil
	case format == whatsapp.TypeImage || format == whatsapp.TypeVideo || format == whatsapp.TypeDocument:
		if len(given) != 1 {
			return nil, switchboard.FieldError(headerField, "This template's header is "+withArticle(format)+
				": give one, by link or by uploaded media id.")
		}
		p := given[0]
		ref := &whatsapp.MediaRef{ID: strings.TrimSpace(p.ID), Link: strings.TrimSpace(p.Link), Filename: strings.TrimSpace(p.Filename)}
		var problem string
		switch kind := strings.ToLower(strings.TrimSpace(p.Type)); {
		case p.malformed || kind == "text" || kind == "" && ref.ID == "" && ref.Link == "":
			problem = "This template's header is " + withArticle(format) + ", not text: give its link or media id."
		case kind == "":
			problem = `Say what the header is: "type": "` + format + `".`
		case kind != format:
			problem = "This template's header is " + withArticle(format) + ", not " + withArticle(kind) + "."
		case ref.ID == "" && ref.Link == "":
			problem = "Give the " + format + "'s link or its uploaded media id."
		case ref.ID != "" && ref.Link != "":
			problem = "Give the " + format + "'s link or its media id, not both."
		case ref.Link != "" && !httpURL(ref.Link):
			problem = "The link must be an http(s) URL."
		case ref.Filename != "" && format != whatsapp.TypeDocument:
			problem = "Only a document header takes a filename."
		}
		if problem != "" {
			return nil, switchboard.FieldError(headerField, problem)
		}
		param := whatsapp.TemplateParameter{Type: format}
		switch format {
		case whatsapp.TypeImage:
			param.Image = ref
		case whatsapp.TypeVideo:
			param.Video = ref
		default:
			param.Document = ref
		}
		return []whatsapp.TemplateParameter{param}, nil
	}
	return nil, switchboard.FieldError(headerField, "This template's header is "+withArticle(format)+", which Switchboard cannot fill.")
}

// withArticle puts "a" or "an" before a header kind ("an image", "a video").
func withArticle(kind string) string {
	if kind != "" && strings.ContainsRune("aeiou", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}

// httpURL reports whether s is an absolute http(s) URL, the only links Meta fetches.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// paramsError files CheckParams' problems under the request's fields: the header's under
// template.header_params, the buttons' under template.button_params, the body's under
// template.params.
func paramsError(err error) error {
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	var p switchboard.Problems
	for _, e := range errs {
		var ve *whatsapp.ValidationError
		if !errors.As(e, &ve) {
			p.Add("template.params", e.Error())
			continue
		}
		field := "template.params"
		switch {
		case ve.Field == "header":
			field = headerField
		case strings.HasPrefix(ve.Field, "button"):
			field = "template.button_params"
		}
		msg := ve.Problem
		if msg != "" {
			msg = strings.ToUpper(msg[:1]) + msg[1:] + "."
		}
		p.Add(field, msg)
	}
	return p.Err()
}

// renderTemplate shows the agent what the customer will read: the body with its variables filled.
func renderTemplate(t whatsapp.Template, tr *TemplateRequest) string {
	c, ok := t.Component("BODY")
	if !ok {
		return "[template " + tr.Name + "]"
	}
	text := c.Text
	var list []string
	var named map[string]string
	if json.Unmarshal(tr.Params, &list) == nil {
		for i, v := range list {
			text = strings.ReplaceAll(text, fmt.Sprintf("{{%d}}", i+1), v)
		}
	} else if json.Unmarshal(tr.Params, &named) == nil {
		for k, v := range named {
			text = strings.ReplaceAll(text, "{{"+k+"}}", v)
		}
	}
	return text
}
