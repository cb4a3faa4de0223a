package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/whatsapp"
)

func TestWebhookSecurityAndLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts := newTestServer(t, st)
		ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
		admin := ts.login("ada@example.com")
		ch, path := ts.webhookChannel(fixturePhoneNumberID, fixtureAppSecret)
		meta := ts.anonymous()
		body := fixture(t, "text.json")

		// The handshake.
		q := "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="
		if res := meta.do("GET", path+q+ch.VerifyToken, nil).wantStatus(http.StatusOK); string(res.Body) != "1158201444" {
			t.Fatalf("challenge echoed as %q", res.Body)
		}
		meta.do("GET", path+q+"wrong-token", nil).wantStatus(http.StatusForbidden)
		meta.do("GET", "/webhooks/whatsapp/999999"+q+ch.VerifyToken, nil).wantStatus(http.StatusNotFound)

		// Wrong, missing or foreign signatures: 401 and nothing stored.
		meta.postWebhook(path, body, "not-the-secret").wantStatus(http.StatusUnauthorized)
		meta.postWebhook(path, body, "").wantStatus(http.StatusUnauthorized)
		tampered := append(bytes.Clone(body), ' ')
		meta.doWith("POST", path, tampered, map[string]string{whatsapp.SignatureHeader: whatsapp.Sign(body, fixtureAppSecret)}).wantStatus(http.StatusUnauthorized)
		if got := allMessages(t, admin); len(got) != 0 {
			t.Fatalf("refused webhooks stored %d messages", len(got))
		}

		// An oversized body: 413 and nothing stored.
		huge := append([]byte(`{"object":"whatsapp_business_account","entry":[],"pad":"`), bytes.Repeat([]byte("x"), 5<<20)...)
		huge = append(huge, []byte(`"}`)...)
		if res := meta.postWebhook(path, huge, fixtureAppSecret); res.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("oversized webhook: %d %s", res.Status, res.Body)
		}

		// A signed body that is not JSON is kept as a dead letter and acknowledged.
		meta.postWebhook(path, []byte("{not json"), fixtureAppSecret).wantStatus(http.StatusOK)
		var letters struct {
			Data []switchboard.DeadLetter `json:"data"`
		}
		admin.do("GET", "/api/v1/dead-letters", nil).wantStatus(http.StatusOK).decode(&letters)
		if len(letters.Data) != 1 || letters.Data[0].Body != "{not json" {
			t.Fatalf("dead letters: %+v", letters.Data)
		}
		// Replaying it fails the same way (422) and keeps it; an unknown id is 404.
		admin.do("POST", fmt.Sprintf("/api/v1/dead-letters/%d/retry", letters.Data[0].ID), nil).wantStatus(http.StatusUnprocessableEntity)
		admin.do("POST", "/api/v1/dead-letters/999999/retry", nil).wantStatus(http.StatusNotFound)

		// The same webhook delivered three times concurrently is stored once.
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if res := meta.postWebhook(path, body, fixtureAppSecret); res.Status != http.StatusOK {
					t.Errorf("concurrent delivery: %d %s", res.Status, res.Body)
				}
			}()
		}
		wg.Wait()
		if got := allMessages(t, admin); len(got) != 1 {
			t.Fatalf("three deliveries stored %d messages", len(got))
		}
		// A body an older parser could not read is stored when replayed, and the dead letter is gone.
		ch, _ = st.ChannelByPhoneNumberID(t.Context(), fixturePhoneNumberID)
		if err := st.RecordDeadLetter(t.Context(), ch.ID, fixture(t, "voice.json"), "unknown type (old version)"); err != nil {
			t.Fatal(err)
		}
		admin.do("GET", "/api/v1/dead-letters", nil).decode(&letters)
		admin.do("POST", fmt.Sprintf("/api/v1/dead-letters/%d/retry", letters.Data[0].ID), nil).wantStatus(http.StatusAccepted)
		admin.do("GET", "/api/v1/dead-letters", nil).decode(&letters)
		if len(letters.Data) != 1 {
			t.Fatalf("the replayed dead letter is removed, the other kept: %d left", len(letters.Data))
		}
		if got := allMessages(t, admin); len(got) != 2 {
			t.Fatalf("the replayed webhook's message was not stored: %d messages", len(got))
		}
	})
}

// TestWebhookWithNULCharacters: a JSON string may carry "\u0000", which PostgreSQL's text cannot hold;
// such a webhook is stored (without the NUL) instead of failing on each of Meta's retries.
func TestWebhookWithNULCharacters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, admin, path := fixtureInbox(t, st)
		body := bytes.Replace(fixture(t, "text.json"), []byte(`"Hallo, is my order`), []byte(`"Hallo,\u0000 is my order`), 1)
		body = bytes.Replace(body, []byte(`"Lena Vogel"`), []byte(`"Lena\u0000 Vogel"`), 1)
		ts.anonymous().postWebhook(path, body, fixtureAppSecret).wantStatus(http.StatusOK)
		got := allMessages(t, admin)
		if len(got) != 1 {
			t.Fatalf("%d messages stored", len(got))
		}
		for _, m := range got {
			if m.Text != "Hallo, is my order on its way?" {
				t.Fatalf("text %q", m.Text)
			}
		}
		convs, _, err := st.ListConversations(t.Context(), store.ConversationFilter{})
		if err != nil || len(convs) != 1 || convs[0].Contact.Name != "Lena Vogel" {
			t.Fatalf("conversations %+v %v", convs, err)
		}
	})
}

// TestWebhookBatchAndStatuses: a batch with two contacts makes two conversations; the status fixtures
// posted in reverse order leave the message at the highest status.
func TestWebhookBatchAndStatuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, admin, path := fixtureInbox(t, st)
		meta := ts.anonymous()

		meta.postWebhook(path, fixture(t, "batch_two_contacts.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		var convs conversationList
		admin.do("GET", "/api/v1/conversations", nil).decode(&convs)
		if len(convs.Data) != 2 || convs.Data[0].Contact == nil || convs.Data[0].WindowExpiresAt == nil {
			t.Fatalf("a batch with two contacts makes two conversations: %+v", convs.Data)
		}

		// An outbound message whose statuses arrive in every order.
		var sent struct {
			Entry []struct {
				Changes []struct {
					Value struct {
						Statuses []struct {
							ID string `json:"id"`
						} `json:"statuses"`
					} `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		json.Unmarshal(fixture(t, "status_read.json"), &sent)
		wamid := sent.Entry[0].Changes[0].Value.Statuses[0].ID
		queued, _, err := st.QueueOutbound(t.Context(), &switchboard.Message{ConversationID: convs.Data[0].ID,
			Sender: switchboard.SenderAgent, Type: switchboard.TypeText, Text: "On it!"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.MarkSent(t.Context(), queued.ID, wamid, queued.CreatedAt); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"status_read.json", "status_delivered.json", "status_sent.json"} {
			b := fixture(t, f)
			b = bytes.ReplaceAll(b, []byte(statusID(t, b)), []byte(wamid))
			meta.postWebhook(path, b, fixtureAppSecret).wantStatus(http.StatusOK)
		}
		var msgs messageList
		admin.do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", convs.Data[0].ID), nil).decode(&msgs)
		var out *switchboard.Message
		for i := range msgs.Data {
			if msgs.Data[i].ExternalID == wamid {
				out = &msgs.Data[i]
			}
		}
		if out == nil || out.Status != switchboard.MsgRead || out.SentAt == nil || out.DeliveredAt == nil {
			t.Fatalf("statuses in any order end at the highest: %+v", out)
		}
	})
}

func statusID(t *testing.T, body []byte) string {
	t.Helper()
	i := bytes.Index(body, []byte(`"statuses"`))
	j := bytes.Index(body[i:], []byte(`"id"`))
	rest := body[i+j+4:]
	start := bytes.IndexByte(rest, '"')
	end := bytes.IndexByte(rest[start+1:], '"')
	id := string(rest[start+1 : start+1+end])
	if !strings.HasPrefix(id, "wamid.") {
		t.Fatalf("no status id in fixture: %q", id)
	}
	return id
}

// TestTemplateStatusWebhook: Meta's template status update changes the cached template, so agents stop
// seeing it as sendable: the template list shows it REJECTED with Meta's reason, and the news is kept
// as a channel event with what Meta sent.
func TestTemplateStatusWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, admin, path := fixtureInbox(t, st)
		chID := channelIDOf(t, path)
		if err := st.ReplaceTemplates(t.Context(), chID, []switchboard.Template{{ExternalID: "1234567890123456", Name: "order_shipped",
			Language: "en_US", Category: "UTILITY", Status: "APPROVED", Components: []byte(`[{"type":"BODY","text":"Shipped!"}]`)}}); err != nil {
			t.Fatal(err)
		}
		ts.anonymous().postWebhook(path, fixture(t, "template_status_update.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		var tpls struct {
			Data []switchboard.Template `json:"data"`
		}
		admin.do("GET", fmt.Sprintf("/api/v1/templates?channel_id=%d", chID), nil).wantStatus(http.StatusOK).decode(&tpls)
		if len(tpls.Data) != 1 || tpls.Data[0].Status != "REJECTED" || tpls.Data[0].RejectedReason != "INVALID_FORMAT" || tpls.Data[0].Usable() {
			t.Fatalf("templates after the status webhook: %+v", tpls.Data)
		}
		events := channelEvents(t, admin, chID)
		var d struct {
			Event string `json:"event"`
			Name  string `json:"message_template_name"`
		}
		if len(events) != 1 || events[0].Field != "message_template_status_update" || json.Unmarshal(events[0].Details, &d) != nil ||
			d.Event != "REJECTED" || d.Name != "order_shipped" {
			t.Fatalf("channel events: %+v", events)
		}
	})
}
