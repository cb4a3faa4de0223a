package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

// ingestText stores a customer message at a given time and returns its conversation.
func ingestText(t *testing.T, st *store.Store, ch *switchboard.Channel, waID, wamid string, at time.Time) *switchboard.Conversation {
	t.Helper()
	b := &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{{WaID: waID, ProfileName: "Marie", ExternalID: wamid, Timestamp: at,
		Message: &switchboard.Message{Type: switchboard.TypeText, Text: "Bonjour", ExternalID: wamid, Timestamp: &at}}}}
	if _, err := st.IngestInbound(t.Context(), ch, b); err != nil {
		t.Fatal(err)
	}
	convs, _, err := st.ListConversations(t.Context(), store.ConversationFilter{ChannelID: ch.ID})
	if err != nil || len(convs) == 0 {
		t.Fatalf("no conversation: %v", err)
	}
	return convs[0]
}

func TestSendMessageRules(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, st *store.Store) {
		ts := newTestServerClock(t, st, clock)
		ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
		bob := ts.mustAgent("Bob", "bob@example.com", switchboard.RoleAgent)
		admin, agent := ts.login("ada@example.com"), ts.login("bob@example.com")
		ch, _ := ts.webhookChannel(fixturePhoneNumberID, fixtureAppSecret)
		conv := ingestText(t, st, ch, "33612345678", "wamid.in1", clock.Now())
		path := fmt.Sprintf("/api/v1/conversations/%d/messages", conv.ID)

		// An agent outside the channel cannot see or write in the conversation.
		agent.do("POST", path, map[string]any{"text": "hi"}).wantStatus(http.StatusNotFound)
		if err := st.PutChannelMember(t.Context(), &switchboard.ChannelMember{ChannelID: ch.ID, AgentID: bob.ID, Capacity: 5}); err != nil {
			t.Fatal(err)
		}
		var sent switchboard.Message
		agent.do("POST", path, map[string]any{"text": "Bonjour Marie !"}).wantStatus(http.StatusAccepted).decode(&sent)
		if sent.Status != switchboard.MsgQueued || sent.Sender != switchboard.SenderAgent || sent.SenderName != "Bob" || sent.Direction != switchboard.Outbound {
			t.Fatalf("queued reply: %+v", sent)
		}
		// The same Idempotency-Key returns the same message instead of sending twice.
		var first, again switchboard.Message
		agent.doWith("POST", path, map[string]any{"text": "once"}, map[string]string{"Idempotency-Key": "k-1"}).wantStatus(http.StatusAccepted).decode(&first)
		agent.doWith("POST", path, map[string]any{"text": "once"}, map[string]string{"Idempotency-Key": "k-1"}).wantStatus(http.StatusAccepted).decode(&again)
		if first.ID != again.ID {
			t.Fatalf("idempotency key ignored: %d vs %d", first.ID, again.ID)
		}
		agent.do("POST", path, map[string]any{"text": "   "}).wantStatus(http.StatusUnprocessableEntity)

		// 24 hours after the customer's last message: free-form refused, nothing queued; notes allowed.
		clock.Advance(24*time.Hour + time.Second)
		res := agent.do("POST", path, map[string]any{"text": "Still there?"}).wantStatus(http.StatusUnprocessableEntity)
		if res.errorCode() != switchboard.EWINDOWCLOSED {
			t.Fatalf("want window_closed, got %s", res.Body)
		}
		var note switchboard.Message
		agent.do("POST", path, map[string]any{"text": "Customer went quiet", "private": true}).wantStatus(http.StatusAccepted).decode(&note)
		if !note.Private || note.Type != switchboard.TypeNote {
			t.Fatalf("note: %+v", note)
		}
		// A template that is not in the cache is refused with a field error.
		res = admin.do("POST", path, map[string]any{"template": map[string]any{"name": "order_update", "language": "en_US", "params": []string{"42"}}}).
			wantStatus(http.StatusUnprocessableEntity)
		if res.errorCode() != switchboard.EINVALID {
			t.Fatalf("unknown template: %s", res.Body)
		}
		var msgs messageList
		admin.do("GET", path, nil).decode(&msgs)
		queued := 0
		for _, m := range msgs.Data {
			if m.Direction == switchboard.Outbound && !m.Private {
				queued++
			}
		}
		if queued != 2 {
			t.Fatalf("refused messages must not be queued: %d outbound messages", queued)
		}
		jobs, _ := st.ListJobs(t.Context(), store.JobFilter{Kind: switchboard.SendJobKind})
		if len(jobs) != 2 {
			t.Fatalf("one send job per queued reply, got %d", len(jobs))
		}
	})
}

func TestSendTemplateChecksParams(t *testing.T) {
	st := storetest.SQLite(t, storetest.Options{})
	ts := newTestServer(t, st)
	ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
	admin := ts.login("ada@example.com")
	ch, _ := ts.webhookChannel(fixturePhoneNumberID, fixtureAppSecret)
	conv := ingestText(t, st, ch, "33612345678", "wamid.in1", time.Now().Add(-48*time.Hour))
	err := st.ReplaceTemplates(t.Context(), ch.ID, []switchboard.Template{
		{Name: "order_update", Language: "en_US", Category: "UTILITY", Status: "APPROVED",
			Components: []byte(`[{"type":"BODY","text":"Hi {{1}}, order {{2}} has shipped."}]`)},
		{Name: "promo", Language: "en_US", Category: "MARKETING", Status: "APPROVED", Components: []byte(`[{"type":"BODY","text":"Sale!"}]`)},
		{Name: "old", Language: "en_US", Category: "UTILITY", Status: "PAUSED", Components: []byte(`[{"type":"BODY","text":"x"}]`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", conv.ID)
	tpl := func(name string, params any) map[string]any {
		return map[string]any{"template": map[string]any{"name": name, "language": "en_US", "params": params}}
	}
	admin.do("POST", path, tpl("order_update", []string{"Marie"})).wantStatus(http.StatusUnprocessableEntity)
	admin.do("POST", path, tpl("old", nil)).wantStatus(http.StatusUnprocessableEntity)
	var m switchboard.Message
	admin.do("POST", path, tpl("order_update", []string{"Marie", "#1042"})).wantStatus(http.StatusAccepted).decode(&m)
	if m.Type != switchboard.TypeTemplate || m.Text != "Hi Marie, order #1042 has shipped." || len(m.Payload) == 0 {
		t.Fatalf("template message: %+v", m)
	}
	// Marketing templates: refused, by Meta's rule, to +1 numbers (opt-outs: TestOptedOutContactGetsNoBusinessInitiatedTemplate).
	admin.do("POST", path, tpl("promo", nil)).wantStatus(http.StatusAccepted)
	us := ingestText(t, st, ch, "14155550100", "wamid.us1", time.Now())
	res := admin.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", us.ID), tpl("promo", nil)).wantStatus(http.StatusUnprocessableEntity)
	if !strings.Contains(string(res.Body), "US") {
		t.Fatalf("marketing to a +1 number: %s", res.Body)
	}
}

// TestOptedOutContactGetsNoBusinessInitiatedTemplate: a contact who opted out is sent no template
// that would open a business-initiated conversation (any template once the 24-hour window is
// closed) and no marketing template at all; inside the window, which the customer opened by writing,
// replies and non-marketing templates still go out. Opting in again lifts it.
func TestOptedOutContactGetsNoBusinessInitiatedTemplate(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, st *store.Store) {
		ts := newTestServerClock(t, st, clock)
		ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
		admin := ts.login("ada@example.com")
		ch, _ := ts.webhookChannel(fixturePhoneNumberID, fixtureAppSecret)
		conv := ingestText(t, st, ch, "33612345678", "wamid.in1", clock.Now())
		err := st.ReplaceTemplates(t.Context(), ch.ID, []switchboard.Template{
			{Name: "order_update", Language: "en_US", Category: "UTILITY", Status: "APPROVED",
				Components: []byte(`[{"type":"BODY","text":"Order {{1}} has shipped."}]`)},
			{Name: "login_code", Language: "en_US", Category: "AUTHENTICATION", Status: "APPROVED",
				Components: []byte(`[{"type":"BODY","text":"Your code is {{1}}."}]`)},
			{Name: "promo", Language: "en_US", Category: "MARKETING", Status: "APPROVED", Components: []byte(`[{"type":"BODY","text":"Sale!"}]`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.SetContactOptOut(t.Context(), conv.ContactID, true); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/api/v1/conversations/%d/messages", conv.ID)
		utility := map[string]any{"template": map[string]any{"name": "order_update", "language": "en_US", "params": []string{"#1042"}}}
		auth := map[string]any{"template": map[string]any{"name": "login_code", "language": "en_US", "params": []string{"123456"}}}
		marketing := map[string]any{"template": map[string]any{"name": "promo", "language": "en_US"}}
		text := map[string]any{"text": "Happy to help."}
		type step struct {
			name string
			body map[string]any
			want int
			code string
		}
		run := func(steps []step) []switchboard.Message {
			var queued []switchboard.Message
			for _, s := range steps {
				res := admin.do("POST", path, s.body)
				if res.Status != s.want || s.code != "" && res.errorCode() != s.code {
					t.Fatalf("%s: %d %s, want %d %s", s.name, res.Status, res.Body, s.want, s.code)
				}
				if s.want == http.StatusAccepted {
					var m switchboard.Message
					res.decode(&m)
					queued = append(queued, m)
				}
			}
			return queued
		}

		// The customer wrote and the window is open.
		open := run([]step{
			{"reply inside the window", text, http.StatusAccepted, ""},
			{"utility template inside the window", utility, http.StatusAccepted, ""},
			{"authentication template inside the window", auth, http.StatusAccepted, ""},
			{"marketing template inside the window", marketing, http.StatusUnprocessableEntity, switchboard.EOPTEDOUT},
		})

		// 24 hours later any template would open a business-initiated conversation.
		clock.Advance(24*time.Hour + time.Second)
		run([]step{
			{"utility template, window closed", utility, http.StatusUnprocessableEntity, switchboard.EOPTEDOUT},
			{"authentication template, window closed", auth, http.StatusUnprocessableEntity, switchboard.EOPTEDOUT},
			{"marketing template, window closed", marketing, http.StatusUnprocessableEntity, switchboard.EOPTEDOUT},
			{"reply, window closed", text, http.StatusUnprocessableEntity, switchboard.EWINDOWCLOSED},
		})
		// Retrying the template sent while the window was open is refused the same way.
		if res := admin.do("POST", fmt.Sprintf("%s/%d/retry", path, open[1].ID), nil); res.errorCode() != switchboard.EOPTEDOUT {
			t.Fatalf("retry of a template to an opted-out contact, window closed: %d %s", res.Status, res.Body)
		}
		var msgs messageList
		admin.do("GET", path, nil).decode(&msgs)
		if n := len(msgs.Data); n != 1+len(open) {
			t.Fatalf("refused messages must not be queued: %d messages", n)
		}

		// Opting in again: templates go out whatever the window.
		if _, _, err := st.SetContactOptOut(t.Context(), conv.ContactID, false); err != nil {
			t.Fatal(err)
		}
		run([]step{
			{"utility template after opt-in", utility, http.StatusAccepted, ""},
			{"marketing template after opt-in", marketing, http.StatusAccepted, ""},
		})
	})
}

// TestSendTemplateHeaderParams: a template's header parameters are checked against the synced
// template's header format before anything is queued: text for a TEXT header (plain strings, as
// before, or text objects), exactly one image, video or document by link or uploaded media id for a
// media header. A wrong kind or a broken reference is a 422 on template.header_params; an accepted
// request stores Meta's header component for the send job.
func TestSendTemplateHeaderParams(t *testing.T) {
	st := storetest.SQLite(t, storetest.Options{})
	ts := newTestServer(t, st)
	ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
	admin := ts.login("ada@example.com")
	ch, _ := ts.webhookChannel(fixturePhoneNumberID, fixtureAppSecret)
	conv := ingestText(t, st, ch, "33612345678", "wamid.in1", time.Now())
	tpl := func(name, header string) switchboard.Template {
		return switchboard.Template{Name: name, Language: "en_US", Category: "UTILITY", Status: "APPROVED",
			Components: []byte(`[` + header + `{"type":"BODY","text":"Order {{1}} has shipped."}]`)}
	}
	err := st.ReplaceTemplates(t.Context(), ch.ID, []switchboard.Template{
		tpl("shipped_photo", `{"type":"HEADER","format":"IMAGE","example":{"header_handle":["4::aW1n"]}},`),
		tpl("shipped_video", `{"type":"HEADER","format":"VIDEO"},`),
		tpl("shipped_invoice", `{"type":"HEADER","format":"DOCUMENT"},`),
		tpl("shipped_text", `{"type":"HEADER","format":"TEXT","text":"Hello {{1}}"},`),
		tpl("shipped_store", `{"type":"HEADER","format":"LOCATION"},`),
		tpl("shipped_plain", ``),
	})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", conv.ID)
	const photo = "https://cdn.example.com/parcel.jpg"
	img := map[string]any{"type": "image", "link": photo}
	tests := []struct {
		name     string
		template string
		header   any // header_params; nil leaves it out
		want     int
		param    string // accepted: the header parameter stored for Meta
		problem  string // refused: a fragment of the template.header_params message
	}{
		{"image by link", "shipped_photo", []any{img}, http.StatusAccepted, `{"type":"image","image":{"link":"` + photo + `"}}`, ""},
		{"image by uploaded id", "shipped_photo", []any{map[string]any{"type": "IMAGE", "id": "1840"}}, http.StatusAccepted, `{"type":"image","image":{"id":"1840"}}`, ""},
		{"video by link", "shipped_video", []any{map[string]any{"type": "video", "link": "https://cdn.example.com/unboxing.mp4"}}, http.StatusAccepted,
			`{"type":"video","video":{"link":"https://cdn.example.com/unboxing.mp4"}}`, ""},
		{"document with filename", "shipped_invoice", []any{map[string]any{"type": "document", "id": "2210", "filename": "invoice-1042.pdf"}}, http.StatusAccepted,
			`{"type":"document","document":{"id":"2210","filename":"invoice-1042.pdf"}}`, ""},
		{"text header as a string", "shipped_text", []any{"Marie"}, http.StatusAccepted, `{"type":"text","text":"Marie"}`, ""},
		{"text header as an object", "shipped_text", []any{map[string]any{"type": "text", "text": "Marie"}}, http.StatusAccepted, `{"type":"text","text":"Marie"}`, ""},

		{"image header without a parameter", "shipped_photo", nil, http.StatusUnprocessableEntity, "", "header is an image"},
		{"image header given a video", "shipped_photo", []any{map[string]any{"type": "video", "link": photo}}, http.StatusUnprocessableEntity, "", "not a video"},
		{"image header given a document", "shipped_photo", []any{map[string]any{"type": "document", "id": "2210"}}, http.StatusUnprocessableEntity, "", "not a document"},
		{"image header given text", "shipped_photo", []any{photo}, http.StatusUnprocessableEntity, "", "not text"},
		{"image header without its type", "shipped_photo", []any{map[string]any{"link": photo}}, http.StatusUnprocessableEntity, "", `"type": "image"`},
		{"image with neither link nor id", "shipped_photo", []any{map[string]any{"type": "image"}}, http.StatusUnprocessableEntity, "", "link or its uploaded media id"},
		{"image with link and id", "shipped_photo", []any{map[string]any{"type": "image", "link": photo, "id": "1840"}}, http.StatusUnprocessableEntity, "", "not both"},
		{"image link not http", "shipped_photo", []any{map[string]any{"type": "image", "link": "ftp://cdn.example.com/p.jpg"}}, http.StatusUnprocessableEntity, "", "http(s) URL"},
		{"image with a filename", "shipped_photo", []any{map[string]any{"type": "image", "link": photo, "filename": "p.jpg"}}, http.StatusUnprocessableEntity, "", "Only a document"},
		{"two images", "shipped_photo", []any{img, img}, http.StatusUnprocessableEntity, "", "give one"},
		{"video header given an image", "shipped_video", []any{img}, http.StatusUnprocessableEntity, "", "header is a video, not an image"},
		{"document header given an image", "shipped_invoice", []any{img}, http.StatusUnprocessableEntity, "", "header is a document, not an image"},
		{"text header given an image", "shipped_text", []any{img}, http.StatusUnprocessableEntity, "", "header is text"},
		{"text header missing its variable", "shipped_text", nil, http.StatusUnprocessableEntity, "", "expects 1 parameters, got 0"},
		{"text header with an empty value", "shipped_text", []any{" "}, http.StatusUnprocessableEntity, "", "needs a value"},
		{"header parameter that is a number", "shipped_text", []any{42}, http.StatusUnprocessableEntity, "", "header is text"},
		{"no header in the template", "shipped_plain", []any{img}, http.StatusUnprocessableEntity, "", "no header"},
		{"location header", "shipped_store", []any{img}, http.StatusUnprocessableEntity, "", "a location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := map[string]any{"name": tt.template, "language": "en_US", "params": []string{"#1042"}}
			if tt.header != nil {
				req["header_params"] = tt.header
			}
			res := admin.do("POST", path, map[string]any{"template": req})
			if res.Status != tt.want {
				t.Fatalf("status %d, want %d: %s", res.Status, tt.want, res.Body)
			}
			if tt.want != http.StatusAccepted {
				var body struct {
					Error struct {
						Code   string            `json:"code"`
						Fields map[string]string `json:"fields"`
					} `json:"error"`
				}
				res.decode(&body)
				if msg := body.Error.Fields["template.header_params"]; body.Error.Code != switchboard.EINVALID || !strings.Contains(msg, tt.problem) {
					t.Fatalf("want %s on template.header_params containing %q: %s", switchboard.EINVALID, tt.problem, res.Body)
				}
				return
			}
			var m switchboard.Message
			res.decode(&m)
			var payload struct {
				Template struct {
					Components []struct {
						Type       string            `json:"type"`
						Parameters []json.RawMessage `json:"parameters"`
					} `json:"components"`
				} `json:"template"`
			}
			if err := json.Unmarshal(m.Payload, &payload); err != nil {
				t.Fatalf("payload %s: %v", m.Payload, err)
			}
			var header []json.RawMessage
			for _, c := range payload.Template.Components {
				if c.Type == "header" {
					header = c.Parameters
				}
			}
			if len(header) != 1 || string(header[0]) != tt.param {
				t.Fatalf("stored header parameters %s, want [%s]", header, tt.param)
			}
		})
	}
	// Nothing refused was queued.
	var msgs messageList
	admin.do("GET", path, nil).decode(&msgs)
	if want := 1 + 6; len(msgs.Data) != want {
		t.Fatalf("%d messages, want %d (the customer's and the accepted templates)", len(msgs.Data), want)
	}
}

func TestSendAttachment(t *testing.T) {
	st := storetest.SQLite(t, storetest.Options{})
	ts := newTestServer(t, st)
	ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
	admin := ts.login("ada@example.com")
	ch, _ := ts.webhookChannel(fixturePhoneNumberID, fixtureAppSecret)
	conv := ingestText(t, st, ch, "33612345678", "wamid.in1", time.Now())
	upload := func(name, mime string, data []byte) *response {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		h := map[string][]string{"Content-Disposition": {`form-data; name="file"; filename="` + name + `"`}, "Content-Type": {mime}}
		part, _ := w.CreatePart(h)
		part.Write(data)
		w.WriteField("caption", "Your invoice")
		w.Close()
		return admin.doWith("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv.ID), buf.Bytes(),
			map[string]string{"Content-Type": w.FormDataContentType()})
	}
	var m switchboard.Message
	upload("invoice.pdf", "application/pdf", []byte("%PDF-1.4 fake invoice")).wantStatus(http.StatusAccepted).decode(&m)
	if m.Type != "document" || m.Media == nil || m.Media.Filename != "invoice.pdf" || m.Text != "Your invoice" {
		t.Fatalf("attachment message: %+v", m)
	}
	res := admin.do("GET", fmt.Sprintf("/api/v1/messages/%d/media", m.ID), nil).wantStatus(http.StatusOK)
	if string(res.Body) != "%PDF-1.4 fake invoice" || res.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("media served: %q %v", res.Body, res.Header)
	}
	upload("photo.gif", "image/gif", []byte("GIF89a")).wantStatus(http.StatusUnprocessableEntity)
}
