package whatsapp

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// The request body of POST /{phone-number-id}/messages, as Meta documents it.

type sendWire struct {
	MessagingProduct      string           `json:"messaging_product"`
	RecipientType         string           `json:"recipient_type,omitempty"`
	To                    string           `json:"to"`
	Type                  string           `json:"type"`
	Text                  *textWire        `json:"text,omitempty"`
	Image                 *mediaOutWire    `json:"image,omitempty"`
	Video                 *mediaOutWire    `json:"video,omitempty"`
	Audio                 *mediaOutWire    `json:"audio,omitempty"`
	Document              *mediaOutWire    `json:"document,omitempty"`
	Sticker               *mediaOutWire    `json:"sticker,omitempty"`
	Template              *templateWire    `json:"template,omitempty"`
	Interactive           *interactiveOut  `json:"interactive,omitempty"`
	Reaction              *reactionWire    `json:"reaction,omitempty"`
	Context               *sendContextWire `json:"context,omitempty"`
	BizOpaqueCallbackData string           `json:"biz_opaque_callback_data,omitempty"`
}

type textWire struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url"`
}

type mediaOutWire struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type templateWire struct {
	Name     string `json:"name"`
	Language struct {
		Code   string `json:"code"`
		Policy string `json:"policy"`
	} `json:"language"`
	Components []componentWire `json:"components,omitempty"`
}

type componentWire struct {
	Type       string              `json:"type"`
	SubType    string              `json:"sub_type,omitempty"`
	Index      flexString          `json:"index,omitempty"`
	Parameters []TemplateParameter `json:"parameters"`
}

type interactiveOut struct {
	Type   string          `json:"type"`
	Header *headerWire     `json:"header,omitempty"`
	Body   *textObjectWire `json:"body,omitempty"`
	Footer *textObjectWire `json:"footer,omitempty"`
	Action actionWire      `json:"action"`
}

type headerWire struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	Image    *MediaRef `json:"image,omitempty"`
	Video    *MediaRef `json:"video,omitempty"`
	Document *MediaRef `json:"document,omitempty"`
}

type textObjectWire struct {
	Text string `json:"text"`
}

type actionWire struct {
	Button   string        `json:"button,omitempty"`
	Buttons  []buttonWire  `json:"buttons,omitempty"`
	Sections []sectionWire `json:"sections,omitempty"`
}

type buttonWire struct {
	Type  string `json:"type"`
	Reply struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"reply"`
}

type sectionWire struct {
	Title string    `json:"title,omitempty"`
	Rows  []rowWire `json:"rows"`
}

type rowWire struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

type reactionWire struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

type sendContextWire struct {
	MessageID string `json:"message_id"`
}

// MarshalJSON renders m as Meta's send request body. It does not validate; Send calls Validate first.
func (m OutboundMessage) MarshalJSON() ([]byte, error) {
	w := sendWire{MessagingProduct: "whatsapp", RecipientType: "individual", To: m.Recipient(), Type: m.Type(),
		BizOpaqueCallbackData: m.BizOpaqueCallbackData}
	if m.ReplyTo != "" {
		w.Context = &sendContextWire{MessageID: m.ReplyTo}
	}
	switch {
	case m.Text != nil:
		w.Text = &textWire{Body: m.Text.Body, PreviewURL: m.Text.PreviewURL}
	case m.Media != nil:
		if slot := w.mediaSlot(m.Media.Type); slot != nil {
			*slot = &mediaOutWire{ID: m.Media.ID, Link: m.Media.Link, Caption: m.Media.Caption, Filename: m.Media.Filename}
		}
	case m.Template != nil:
		t := &templateWire{Name: m.Template.Name}
		t.Language.Code, t.Language.Policy = m.Template.Language, "deterministic"
		for _, c := range m.Template.Components {
			cw := componentWire{Type: c.Type, SubType: c.SubType, Parameters: c.Parameters}
			if c.Type == ComponentButton {
				cw.Index = flexString(strconv.Itoa(c.Index))
			}
			if cw.Parameters == nil {
				cw.Parameters = []TemplateParameter{}
			}
			t.Components = append(t.Components, cw)
		}
		w.Template = t
	case m.Interactive != nil:
		w.Interactive = m.Interactive.wire()
	case m.Reaction != nil:
		w.Reaction = &reactionWire{MessageID: m.Reaction.MessageID, Emoji: m.Reaction.Emoji}
	}
	return json.Marshal(w)
}

// mediaSlot returns the field of w that carries media of the given type, or nil.
func (w *sendWire) mediaSlot(typ string) **mediaOutWire {
	switch typ {
	case TypeImage:
		return &w.Image
	case TypeVideo:
		return &w.Video
	case TypeAudio:
		return &w.Audio
	case TypeDocument:
		return &w.Document
	case TypeSticker:
		return &w.Sticker
	}
	return nil
}

func (in *Interactive) wire() *interactiveOut {
	w := &interactiveOut{Type: in.Type, Action: actionWire{Button: in.ListButton}}
	if in.Body != "" {
		w.Body = &textObjectWire{in.Body}
	}
	if in.Footer != "" {
		w.Footer = &textObjectWire{in.Footer}
	}
	if h := in.Header; h != nil {
		w.Header = &headerWire{Type: h.Type, Text: h.Text}
		switch h.Type {
		case TypeImage:
			w.Header.Image = h.Media
		case TypeVideo:
			w.Header.Video = h.Media
		case TypeDocument:
			w.Header.Document = h.Media
		}
	}
	for _, b := range in.Buttons {
		bw := buttonWire{Type: "reply"}
		bw.Reply.ID, bw.Reply.Title = b.ID, b.Title
		w.Action.Buttons = append(w.Action.Buttons, bw)
	}
	for _, s := range in.Sections {
		sw := sectionWire{Title: s.Title, Rows: []rowWire{}}
		for _, r := range s.Rows {
			sw.Rows = append(sw.Rows, rowWire(r))
		}
		w.Action.Sections = append(w.Action.Sections, sw)
	}
	return w
}

// UnmarshalJSON reads Meta's send request body back into m (the fake Graph API and stored jobs use
// it). Message types OutboundMessage cannot express (location, contacts, ...) are an error.
func (m *OutboundMessage) UnmarshalJSON(b []byte) error {
	var w sendWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	out := OutboundMessage{To: w.To, BizOpaqueCallbackData: w.BizOpaqueCallbackData}
	if w.Context != nil {
		out.ReplyTo = w.Context.MessageID
	}
	switch w.Type {
	case "text":
		if w.Text != nil {
			out.Text = &Text{Body: w.Text.Body, PreviewURL: w.Text.PreviewURL}
		}
	case TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker:
		out.Media = &OutboundMedia{Type: w.Type}
		if mw := *w.mediaSlot(w.Type); mw != nil {
			out.Media.ID, out.Media.Link, out.Media.Caption, out.Media.Filename = mw.ID, mw.Link, mw.Caption, mw.Filename
		}
	case "template":
		if t := w.Template; t != nil {
			out.Template = &TemplateMessage{Name: t.Name, Language: t.Language.Code}
			for _, c := range t.Components {
				out.Template.Components = append(out.Template.Components, TemplateComponentParams{
					Type: c.Type, SubType: c.SubType, Index: int(parseInt(string(c.Index))), Parameters: c.Parameters,
				})
			}
		}
	case "interactive":
		if w.Interactive != nil {
			out.Interactive = w.Interactive.interactive()
		}
	case "reaction":
		if w.Reaction != nil {
			out.Reaction = &OutboundReaction{MessageID: w.Reaction.MessageID, Emoji: w.Reaction.Emoji}
		}
	default:
		return fmt.Errorf("whatsapp: message type %q is not supported by OutboundMessage", w.Type)
	}
	*m = out
	return nil
}

func (w *interactiveOut) interactive() *Interactive {
	in := &Interactive{Type: w.Type, ListButton: w.Action.Button}
	if w.Body != nil {
		in.Body = w.Body.Text
	}
	if w.Footer != nil {
		in.Footer = w.Footer.Text
	}
	if h := w.Header; h != nil {
		in.Header = &InteractiveHeader{Type: h.Type, Text: h.Text}
		for _, media := range []*MediaRef{h.Image, h.Video, h.Document} {
			if media != nil {
				in.Header.Media = media
			}
		}
	}
	for _, b := range w.Action.Buttons {
		in.Buttons = append(in.Buttons, ReplyButton{ID: b.Reply.ID, Title: b.Reply.Title})
	}
	for _, s := range w.Action.Sections {
		sec := ListSection{Title: s.Title}
		for _, r := range s.Rows {
			sec.Rows = append(sec.Rows, ListRow(r))
		}
		in.Sections = append(in.Sections, sec)
	}
	return in
}
