package server_test

import (
	"bytes"
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
	// Marketing templates: refused to a contact who opted out (and, by Meta's rule, to +1 numbers).
	if _, _, err := st.SetContactOptOut(t.Context(), conv.ContactID, true); err != nil {
		t.Fatal(err)
	}
	if res := admin.do("POST", path, tpl("promo", nil)); res.errorCode() != switchboard.EOPTEDOUT {
		t.Fatalf("marketing to an opted-out contact: %s", res.Body)
	}
	if _, _, err := st.SetContactOptOut(t.Context(), conv.ContactID, false); err != nil {
		t.Fatal(err)
	}
	admin.do("POST", path, tpl("promo", nil)).wantStatus(http.StatusAccepted)
	us := ingestText(t, st, ch, "14155550100", "wamid.us1", time.Now())
	res := admin.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", us.ID), tpl("promo", nil)).wantStatus(http.StatusUnprocessableEntity)
	if !strings.Contains(string(res.Body), "US") {
		t.Fatalf("marketing to a +1 number: %s", res.Body)
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
