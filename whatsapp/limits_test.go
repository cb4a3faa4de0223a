package whatsapp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func buttons(n int) []ReplyButton {
	out := make([]ReplyButton, n)
	for i := range out {
		out[i] = ReplyButton{ID: fmt.Sprintf("b%d", i), Title: fmt.Sprintf("Button %d", i)}
	}
	return out
}

func rows(prefix string, n int) []ListRow {
	out := make([]ListRow, n)
	for i := range out {
		out[i] = ListRow{ID: fmt.Sprintf("%s%d", prefix, i), Title: fmt.Sprintf("Row %d", i)}
	}
	return out
}

func TestValidateLimits(t *testing.T) {
	to := "4915112345678"
	btn := func(mutate func(*Interactive)) OutboundMessage {
		in := &Interactive{Type: "button", Body: "Body", Buttons: buttons(2)}
		mutate(in)
		return OutboundMessage{To: to, Interactive: in}
	}
	list := func(mutate func(*Interactive)) OutboundMessage {
		in := &Interactive{Type: "list", Body: "Body", ListButton: "Open", Sections: []ListSection{{Rows: rows("r", 3)}}}
		mutate(in)
		return OutboundMessage{To: to, Interactive: in}
	}
	tests := []struct {
		name  string
		msg   OutboundMessage
		field string // "" means valid
	}{
		{"text ok at 4096", OutboundMessage{To: to, Text: &Text{Body: strings.Repeat("ä", 4096)}}, ""},
		{"text too long", OutboundMessage{To: to, Text: &Text{Body: strings.Repeat("a", 4097)}}, "text.body"},
		{"text empty", OutboundMessage{To: to, Text: &Text{Body: "  "}}, "text.body"},
		{"no recipient", OutboundMessage{Text: &Text{Body: "x"}}, "to"},
		{"no content", OutboundMessage{To: to}, "type"},
		{"two contents", OutboundMessage{To: to, Text: &Text{Body: "x"}, Reaction: &OutboundReaction{MessageID: "w"}}, "type"},
		{"callback data too long", OutboundMessage{To: to, Text: &Text{Body: "x"}, BizOpaqueCallbackData: strings.Repeat("d", 513)}, "biz_opaque_callback_data"},
		{"media without id or link", OutboundMessage{To: to, Media: &OutboundMedia{Type: "image"}}, "image"},
		{"media with both", OutboundMessage{To: to, Media: &OutboundMedia{Type: "image", ID: "1", Link: "https://x.example/a.jpg"}}, "image"},
		{"media link not http", OutboundMessage{To: to, Media: &OutboundMedia{Type: "video", Link: "ftp://x/a.mp4"}}, "video.link"},
		{"media unknown type", OutboundMessage{To: to, Media: &OutboundMedia{Type: "gif", ID: "1"}}, "type"},
		{"caption on audio", OutboundMessage{To: to, Media: &OutboundMedia{Type: "audio", ID: "1", Caption: "no"}}, "audio.caption"},
		{"filename on image", OutboundMessage{To: to, Media: &OutboundMedia{Type: "image", ID: "1", Filename: "a.jpg"}}, "image.filename"},
		{"caption too long", OutboundMessage{To: to, Media: &OutboundMedia{Type: "image", ID: "1", Caption: strings.Repeat("c", 1025)}}, "image.caption"},
		{"reaction without target", OutboundMessage{To: to, Reaction: &OutboundReaction{Emoji: "👍"}}, "reaction.message_id"},
		{"reaction removal ok", OutboundMessage{To: to, Reaction: &OutboundReaction{MessageID: "wamid.1"}}, ""},
		{"buttons: three ok", btn(func(in *Interactive) { in.Buttons = buttons(3) }), ""},
		{"buttons: none", btn(func(in *Interactive) { in.Buttons = nil }), "interactive.action.buttons"},
		{"buttons: four", btn(func(in *Interactive) { in.Buttons = buttons(4) }), "interactive.action.buttons"},
		{"buttons: title 20 ok", btn(func(in *Interactive) { in.Buttons[0].Title = strings.Repeat("t", 20) }), ""},
		{"buttons: title 21", btn(func(in *Interactive) { in.Buttons[0].Title = strings.Repeat("t", 21) }), "interactive.action.buttons[0].reply.title"},
		{"buttons: empty title", btn(func(in *Interactive) { in.Buttons[1].Title = "" }), "interactive.action.buttons[1].reply.title"},
		{"buttons: duplicate title", btn(func(in *Interactive) { in.Buttons[1].Title = in.Buttons[0].Title }), "interactive.action.buttons[1].reply.title"},
		{"buttons: duplicate id", btn(func(in *Interactive) { in.Buttons[1].ID = in.Buttons[0].ID }), "interactive.action.buttons[1].reply.id"},
		{"buttons: id 257", btn(func(in *Interactive) { in.Buttons[0].ID = strings.Repeat("i", 257) }), "interactive.action.buttons[0].reply.id"},
		{"buttons: id edge space", btn(func(in *Interactive) { in.Buttons[0].ID = " b0" }), "interactive.action.buttons[0].reply.id"},
		{"buttons: body missing", btn(func(in *Interactive) { in.Body = "" }), "interactive.body.text"},
		{"buttons: body 1025", btn(func(in *Interactive) { in.Body = strings.Repeat("b", 1025) }), "interactive.body.text"},
		{"buttons: footer 61", btn(func(in *Interactive) { in.Footer = strings.Repeat("f", 61) }), "interactive.footer.text"},
		{"buttons: header 61", btn(func(in *Interactive) { in.Header = &InteractiveHeader{Type: "text", Text: strings.Repeat("h", 61)} }), "interactive.header.text"},
		{"buttons: media header without media", btn(func(in *Interactive) { in.Header = &InteractiveHeader{Type: "video"} }), "interactive.header.video"},
		{"buttons: with sections", btn(func(in *Interactive) { in.Sections = []ListSection{{Rows: rows("r", 1)}} }), "interactive.action"},
		{"list: ok", list(func(*Interactive) {}), ""},
		{"list: image header", list(func(in *Interactive) { in.Header = &InteractiveHeader{Type: "image", Media: &MediaRef{ID: "1"}} }), "interactive.header.type"},
		{"list: button missing", list(func(in *Interactive) { in.ListButton = "" }), "interactive.action.button"},
		{"list: button 21", list(func(in *Interactive) { in.ListButton = strings.Repeat("l", 21) }), "interactive.action.button"},
		{"list: no sections", list(func(in *Interactive) { in.Sections = nil }), "interactive.action.sections"},
		{"list: eleven sections", list(func(in *Interactive) {
			in.Sections = nil
			for i := range 11 {
				in.Sections = append(in.Sections, ListSection{Title: fmt.Sprint("S", i), Rows: rows(fmt.Sprint("s", i, "r"), 1)})
			}
		}), "interactive.action.sections"},
		{"list: two sections need titles", list(func(in *Interactive) {
			in.Sections = append(in.Sections, ListSection{Title: "B", Rows: rows("x", 1)})
		}), "interactive.action.sections[0].title"},
		{"list: section title 25", list(func(in *Interactive) { in.Sections[0].Title = strings.Repeat("s", 25) }), "interactive.action.sections[0].title"},
		{"list: ten rows ok", list(func(in *Interactive) { in.Sections[0].Rows = rows("r", 10) }), ""},
		{"list: eleven rows across sections", list(func(in *Interactive) {
			in.Sections = []ListSection{{Title: "A", Rows: rows("a", 6)}, {Title: "B", Rows: rows("b", 5)}}
		}), "interactive.action.sections"},
		{"list: empty section", list(func(in *Interactive) { in.Sections[0].Rows = nil }), "interactive.action.sections[0].rows"},
		{"list: row id 201", list(func(in *Interactive) { in.Sections[0].Rows[0].ID = strings.Repeat("i", 201) }), "interactive.action.sections[0].rows[0].id"},
		{"list: row title 25", list(func(in *Interactive) { in.Sections[0].Rows[1].Title = strings.Repeat("t", 25) }), "interactive.action.sections[0].rows[1].title"},
		{"list: row description 73", list(func(in *Interactive) { in.Sections[0].Rows[2].Description = strings.Repeat("d", 73) }), "interactive.action.sections[0].rows[2].description"},
		{"list: duplicate row id", list(func(in *Interactive) { in.Sections[0].Rows[1].ID = "r0" }), "interactive.action.sections[0].rows[1].id"},
		{"interactive: unsupported type", btn(func(in *Interactive) { in.Type = "flow" }), "interactive.type"},
		{"template: no name", OutboundMessage{To: to, Template: &TemplateMessage{Language: "en"}}, "template.name"},
		{"template: no language", OutboundMessage{To: to, Template: &TemplateMessage{Name: "t"}}, "template.language.code"},
		{"template: button without sub_type", OutboundMessage{To: to, Template: &TemplateMessage{Name: "t", Language: "en",
			Components: []TemplateComponentParams{{Type: "button", Parameters: []TemplateParameter{PayloadParam("p")}}}}}, "template.components[0].sub_type"},
		{"template: mixed named and positional", OutboundMessage{To: to, Template: &TemplateMessage{Name: "t", Language: "en",
			Components: []TemplateComponentParams{{Type: "body", Parameters: []TemplateParameter{TextParam("a"), NamedTextParam("n", "b")}}}}}, "template.components"},
		{"template: named body variables with an image header", OutboundMessage{To: to, Template: &TemplateMessage{Name: "t", Language: "en",
			Components: []TemplateComponentParams{
				{Type: "header", Parameters: []TemplateParameter{{Type: TypeImage, Image: &MediaRef{Link: "https://example.com/a.png"}}}},
				{Type: "body", Parameters: []TemplateParameter{NamedTextParam("n", "b")}}}}}, ""},
		{"template: empty text parameter", OutboundMessage{To: to, Template: &TemplateMessage{Name: "t", Language: "en",
			Components: []TemplateComponentParams{{Type: "body", Parameters: []TemplateParameter{TextParam("")}}}}}, "template.components[0].parameters[0].text"},
		{"template: unknown component", OutboundMessage{To: to, Template: &TemplateMessage{Name: "t", Language: "en",
			Components: []TemplateComponentParams{{Type: "footer"}}}}, "template.components[0].type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := newGraphStub(t, http.StatusOK, sendAnswer)
			_, err := stub.client().Send(t.Context(), "tok", "1", tt.msg)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.Is(err, ErrInvalidMessage) || !errors.As(err, &ve) {
				t.Fatalf("Send = %v, want a validation error", err)
			}
			if !strings.Contains(err.Error(), tt.field+": ") {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
			if n := len(stub.calls()); n != 0 {
				t.Errorf("%d HTTP calls made for an invalid message", n)
			}
			if Classify(err) != ClassPermanent {
				t.Errorf("Classify = %v", Classify(err))
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := OutboundMessage{To: "1", Interactive: &Interactive{Type: "button", Buttons: buttons(4)}}.Validate()
	for _, field := range []string{"interactive.body.text", "interactive.action.buttons"} {
		if !strings.Contains(fmt.Sprint(err), field) {
			t.Errorf("%v does not mention %s", err, field)
		}
	}
}
