package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// templateFields are requested explicitly: parameter_format and rejected_reason are not default fields.
const templateFields = "id,name,language,status,category,parameter_format,components,rejected_reason"

// maxTemplatePages stops a paging loop that never ends (100 pages of 100 is far above Meta's limits).
const maxTemplatePages = 100

// Template is a message template as GET /{waba-id}/message_templates lists it.
type Template struct {
	ID       string
	Name     string
	Language string
	// Status is APPROVED, PENDING, REJECTED, PAUSED, DISABLED, ...
	Status   string
	Category string
	// ParameterFormat is POSITIONAL ({{1}}) or NAMED ({{first_name}}); empty means positional.
	ParameterFormat string
	RejectedReason  string
	Components      []TemplateComponent
	// Raw is the template object as listed.
	Raw json.RawMessage
}

// TemplateComponent is one part of a template: HEADER, BODY, FOOTER or BUTTONS.
type TemplateComponent struct {
	Type string
	// Format is the header's kind: TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION.
	Format  string
	Text    string
	Buttons []TemplateButton
}

// TemplateButton is one button of a BUTTONS component.
type TemplateButton struct {
	// Type is QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, FLOW, ...
	Type        string
	Text        string
	URL         string
	PhoneNumber string
}

type listedTemplateWire struct {
	ID              flexString      `json:"id"`
	Name            flexString      `json:"name"`
	Language        flexString      `json:"language"`
	Status          flexString      `json:"status"`
	Category        flexString      `json:"category"`
	ParameterFormat flexString      `json:"parameter_format"`
	RejectedReason  flexString      `json:"rejected_reason"`
	Components      json.RawMessage `json:"components"`
}

type templateComponentWire struct {
	Type    flexString      `json:"type"`
	Format  flexString      `json:"format"`
	Text    flexString      `json:"text"`
	Buttons json.RawMessage `json:"buttons"`
}

type templateButtonWire struct {
	Type        flexString `json:"type"`
	Text        flexString `json:"text"`
	URL         flexString `json:"url"`
	PhoneNumber flexString `json:"phone_number"`
}

type templatePageWire struct {
	Data   []json.RawMessage `json:"data"`
	Paging struct {
		Cursors struct {
			After flexString `json:"after"`
		} `json:"cursors"`
		Next flexString `json:"next"`
	} `json:"paging"`
}

// ParseTemplate decodes one template object as Meta lists it (the fake Graph API stores them this way).
// It is tolerant like the webhook parser: malformed parts are skipped.
func ParseTemplate(raw json.RawMessage) Template {
	var w listedTemplateWire
	decodeTolerant(raw, &w)
	t := Template{
		ID: string(w.ID), Name: string(w.Name), Language: string(w.Language), Status: string(w.Status),
		Category: string(w.Category), ParameterFormat: string(w.ParameterFormat),
		RejectedReason: string(w.RejectedReason), Raw: raw,
	}
	for _, cw := range decodeList[templateComponentWire](w.Components) {
		c := TemplateComponent{Type: string(cw.Type), Format: string(cw.Format), Text: string(cw.Text)}
		for _, bw := range decodeList[templateButtonWire](cw.Buttons) {
			c.Buttons = append(c.Buttons, TemplateButton{
				Type: string(bw.Type), Text: string(bw.Text), URL: string(bw.URL), PhoneNumber: string(bw.PhoneNumber),
			})
		}
		t.Components = append(t.Components, c)
	}
	return t
}

// ListTemplates returns every template of the WhatsApp Business Account, following paging.next to the
// last page. A next link on another host than the client's base URL is not followed with the token;
// the after cursor is used on the base URL instead.
func (c *Client) ListTemplates(ctx context.Context, token, wabaID string) ([]Template, error) {
	if err := requireIDs("waba_id", wabaID); err != nil {
		return nil, err
	}
	first := c.endpoint(wabaID, "message_templates")
	q := url.Values{"limit": {"100"}, "fields": {templateFields}}
	next := first + "?" + q.Encode()
	seen := map[string]bool{}
	var out []Template
	for page := 0; next != ""; page++ {
		if page >= maxTemplatePages || seen[next] {
			return nil, fmt.Errorf("whatsapp: template paging of %s does not end", wabaID)
		}
		seen[next] = true
		var w templatePageWire
		if err := c.doJSON(ctx, http.MethodGet, next, token, nil, &w); err != nil {
			return nil, err
		}
		for _, raw := range w.Data {
			out = append(out, ParseTemplate(raw))
		}
		next = ""
		switch link, after := string(w.Paging.Next), string(w.Paging.Cursors.After); {
		case link == "":
		case c.sameOrigin(link):
			next = link
		case after != "":
			q.Set("after", after)
			next = first + "?" + q.Encode()
		}
	}
	return out, nil
}
