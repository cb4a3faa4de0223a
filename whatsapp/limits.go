package whatsapp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// ErrInvalidMessage matches (errors.Is) every local validation failure: the message breaks one of
// Meta's documented limits and was not sent.
var ErrInvalidMessage = errors.New("whatsapp: invalid message")

// ValidationError is one broken limit, naming the field in Meta's body ("interactive.action.
// buttons[1].reply.title") and the problem. Validate joins all of them with errors.Join.
type ValidationError struct {
	Field   string
	Problem string
}

// Error renders the field and the problem.
func (e *ValidationError) Error() string {
	return "whatsapp: invalid message: " + e.Field + ": " + e.Problem
}

// Is makes every ValidationError match ErrInvalidMessage.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidMessage }

// problems collects ValidationErrors.
type problems []error

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, &ValidationError{Field: field, Problem: fmt.Sprintf(format, args...)})
}

// text checks a text field: non-blank when required, at most limit characters.
func (p *problems) text(field, s string, required bool, limit int) {
	switch n := utf8.RuneCountInString(s); {
	case required && strings.TrimSpace(s) == "":
		p.add(field, "is required")
	case n > limit:
		p.add(field, "is %d characters, the limit is %d", n, limit)
	}
}

// Validate checks m against Meta's documented limits before any HTTP call and returns every problem
// found (joined), each a *ValidationError matching ErrInvalidMessage.
func (m OutboundMessage) Validate() error {
	var p problems
	if strings.TrimSpace(m.To) == "" {
		p.add("to", "is required")
	}
	parts := 0
	for _, set := range []bool{m.Text != nil, m.Media != nil, m.Template != nil, m.Interactive != nil, m.Reaction != nil} {
		if set {
			parts++
		}
	}
	if parts != 1 {
		p.add("type", "exactly one of text, media, template, interactive or reaction must be set (got %d)", parts)
	}
	p.text("biz_opaque_callback_data", m.BizOpaqueCallbackData, false, 512)
	switch {
	case m.Text != nil:
		p.text("text.body", m.Text.Body, true, 4096)
	case m.Media != nil:
		p.media(m.Media)
	case m.Template != nil:
		p.template(m.Template)
	case m.Interactive != nil:
		p.interactive(m.Interactive)
	case m.Reaction != nil:
		if strings.TrimSpace(m.Reaction.MessageID) == "" {
			p.add("reaction.message_id", "is required")
		}
	}
	return errors.Join(p...)
}

func (p *problems) media(md *OutboundMedia) {
	f := md.Type
	switch md.Type {
	case TypeImage, TypeVideo, TypeDocument, TypeAudio, TypeSticker:
	default:
		p.add("type", "media type %q is not one of image, video, audio, document, sticker", md.Type)
		return
	}
	p.mediaRef(f, md.ID, md.Link)
	if md.Caption != "" && (md.Type == TypeAudio || md.Type == TypeSticker) {
		p.add(f+".caption", "is not allowed on %s", md.Type)
	}
	p.text(f+".caption", md.Caption, false, 1024)
	if md.Filename != "" && md.Type != TypeDocument {
		p.add(f+".filename", "is allowed only on document")
	}
}

// mediaRef checks that exactly one of id and link is set and that a link is an absolute http(s) URL.
func (p *problems) mediaRef(field, id, link string) {
	switch {
	case id == "" && link == "":
		p.add(field, "needs an id or a link")
	case id != "" && link != "":
		p.add(field, "takes an id or a link, not both")
	case link != "":
		u, err := url.Parse(link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add(field+".link", "must be an http(s) URL")
		}
	}
}

func (p *problems) template(t *TemplateMessage) {
	p.text("template.name", t.Name, true, 512)
	p.text("template.language.code", t.Language, true, 16)
	named, positional := 0, 0
	for i, c := range t.Components {
		f := fmt.Sprintf("template.components[%d]", i)
		switch c.Type {
		case ComponentHeader, ComponentBody:
		case ComponentButton:
			if c.SubType == "" {
				p.add(f+".sub_type", "is required for buttons")
			}
			if c.Index < 0 || c.Index > 9 {
				p.add(f+".index", "must be 0–9")
			}
		default:
			p.add(f+".type", "%q is not header, body or button", c.Type)
		}
		for j, prm := range c.Parameters {
			pf := fmt.Sprintf("%s.parameters[%d]", f, j)
			p.parameter(pf, prm)
			// Only variables are named or positional; a media header's file and buttons are neither.
			switch {
			case prm.ParameterName != "":
				named++
			case c.Type != ComponentButton && prm.Type != TypeImage && prm.Type != TypeVideo && prm.Type != TypeDocument:
				positional++
			}
		}
	}
	if named > 0 && positional > 0 {
		p.add("template.components", "mixes named and positional parameters")
	}
}

func (p *problems) parameter(f string, prm TemplateParameter) {
	switch prm.Type {
	case "text":
		p.text(f+".text", prm.Text, true, 32768)
	case "payload":
		p.text(f+".payload", prm.Payload, true, 1000)
	case "currency":
		if c := prm.Currency; c == nil || c.FallbackValue == "" || c.Code == "" {
			p.add(f+".currency", "needs fallback_value, code and amount_1000")
		}
	case "date_time":
		if prm.DateTime == nil || prm.DateTime.FallbackValue == "" {
			p.add(f+".date_time", "needs fallback_value")
		}
	case TypeImage, TypeVideo, TypeDocument:
		ref := map[string]*MediaRef{TypeImage: prm.Image, TypeVideo: prm.Video, TypeDocument: prm.Document}[prm.Type]
		if ref == nil {
			p.add(f+"."+prm.Type, "is required")
		} else {
			p.mediaRef(f+"."+prm.Type, ref.ID, ref.Link)
		}
	default:
		p.add(f+".type", "%q is not a known parameter type", prm.Type)
	}
}

func (p *problems) interactive(in *Interactive) {
	const f = "interactive"
	p.text(f+".body.text", in.Body, true, 1024)
	p.text(f+".footer.text", in.Footer, false, 60)
	if h := in.Header; h != nil {
		switch {
		case h.Type == "text":
			p.text(f+".header.text", h.Text, true, 60)
		case in.Type == InteractiveButtons && (h.Type == TypeImage || h.Type == TypeVideo || h.Type == TypeDocument):
			if h.Media == nil {
				p.add(f+".header."+h.Type, "is required")
			} else {
				p.mediaRef(f+".header."+h.Type, h.Media.ID, h.Media.Link)
			}
		default:
			p.add(f+".header.type", "%q is not allowed on a %s message", h.Type, in.Type)
		}
	}
	switch in.Type {
	case InteractiveButtons:
		p.buttons(in)
	case InteractiveList:
		p.list(in)
	default:
		p.add(f+".type", "%q is not button or list", in.Type)
	}
}

func (p *problems) buttons(in *Interactive) {
	if n := len(in.Buttons); n < 1 || n > 3 {
		p.add("interactive.action.buttons", "has %d buttons, Meta allows 1–3", n)
	}
	if len(in.Sections) > 0 || in.ListButton != "" {
		p.add("interactive.action", "a button message takes no list button or sections")
	}
	ids, titles := map[string]bool{}, map[string]bool{}
	for i, b := range in.Buttons {
		f := fmt.Sprintf("interactive.action.buttons[%d].reply", i)
		p.text(f+".id", b.ID, true, 256)
		if b.ID != strings.TrimSpace(b.ID) {
			p.add(f+".id", "must not start or end with spaces")
		}
		p.text(f+".title", b.Title, true, 20)
		if ids[b.ID] {
			p.add(f+".id", "%q is used twice", b.ID)
		}
		if titles[b.Title] {
			p.add(f+".title", "%q is used twice", b.Title)
		}
		ids[b.ID], titles[b.Title] = true, true
	}
}

func (p *problems) list(in *Interactive) {
	p.text("interactive.action.button", in.ListButton, true, 20)
	if len(in.Buttons) > 0 {
		p.add("interactive.action.buttons", "a list message takes sections, not buttons")
	}
	if n := len(in.Sections); n < 1 || n > 10 {
		p.add("interactive.action.sections", "has %d sections, Meta allows 1–10", n)
	}
	rows, ids := 0, map[string]bool{}
	for i, s := range in.Sections {
		f := fmt.Sprintf("interactive.action.sections[%d]", i)
		p.text(f+".title", s.Title, len(in.Sections) > 1, 24)
		if len(s.Rows) == 0 {
			p.add(f+".rows", "needs at least one row")
		}
		for j, r := range s.Rows {
			rf := fmt.Sprintf("%s.rows[%d]", f, j)
			p.text(rf+".id", r.ID, true, 200)
			p.text(rf+".title", r.Title, true, 24)
			p.text(rf+".description", r.Description, false, 72)
			if ids[r.ID] {
				p.add(rf+".id", "%q is used twice", r.ID)
			}
			ids[r.ID] = true
			rows++
		}
	}
	if rows > 10 {
		p.add("interactive.action.sections", "has %d rows in total, Meta allows at most 10", rows)
	}
}
