package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"switchboard"
	"switchboard/store/storetest"
	"switchboard/whatsapp/graphtest"
)

// TestReplyReachesWhatsApp: an agent's reply reaches the Graph API in Meta's documented body shape,
// and the status webhooks that come back move it to delivered and read. On both databases.
func TestReplyReachesWhatsApp(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			url := ""
			if db == "postgres" {
				url = storetest.PostgresURL(t)
			}
			e := startE2E(t, url)
			body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("33612345678", "Marie", "Bonjour, ma commande ?"))
			e.customerSays(body)
			conv := e.conversation("33612345678")

			var sent switchboard.Message
			e.call("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), map[string]string{"text": "Bonjour Marie, je regarde."}, http.StatusAccepted, &sent)
			got, err := e.fake.WaitForSent(t.Context(), 1)
			if err != nil {
				t.Fatal(err)
			}
			var wire map[string]any
			json.Unmarshal(got[0].Body, &wire)
			text, _ := wire["text"].(map[string]any)
			if wire["messaging_product"] != "whatsapp" || wire["recipient_type"] != "individual" || wire["to"] != "+33612345678" ||
				wire["type"] != "text" || text["body"] != "Bonjour Marie, je regarde." {
				t.Fatalf("body sent to Meta: %s", got[0].Body)
			}
			if auth := got[0].Header.Get("Authorization"); auth != "Bearer "+e.number.Token {
				t.Fatalf("authorization header %q", auth)
			}
			e.eventually("the reply to be read", func() bool {
				m := e.message(conv, sent.ID)
				return m.Status == switchboard.MsgRead && m.ExternalID == got[0].MessageID && m.DeliveredAt != nil
			})
		})
	}
}

// TestThrottlingAndFailures: during a 130429 storm a reply is retried and delivered once; a 131047
// failure (sync or async) shows on the message with Meta's title.
func TestThrottlingAndFailures(t *testing.T) {
	e := startE2E(t, "")
	body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("4915112345678", "Lena", "Hallo"))
	e.customerSays(body)
	conv := e.conversation("4915112345678")
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", conv)

	e.fake.FailNext(2, 130429)
	var stormy switchboard.Message
	e.call("POST", path, map[string]string{"text": "Throttled but delivered"}, http.StatusAccepted, &stormy)
	e.eventually("the throttled reply to be delivered", func() bool {
		m := e.message(conv, stormy.ID)
		return m.Status == switchboard.MsgRead || m.Status == switchboard.MsgDelivered
	})
	count := 0
	for _, s := range e.fake.Sent() {
		if s.Message.Text != nil && s.Message.Text.Body == "Throttled but delivered" {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("the reply reached Meta %d times, want once", count)
	}

	e.fake.FailNext(1, 131047)
	var refused switchboard.Message
	e.call("POST", path, map[string]string{"text": "Refused by Meta"}, http.StatusAccepted, &refused)
	e.eventually("the sync failure to show", func() bool {
		m := e.message(conv, refused.ID)
		return m.Status == switchboard.MsgFailed && m.Error != nil && m.Error.Code == 131047 && m.Error.Title != ""
	})

	e.fake.SetAsyncFailure("4915112345678", 131047)
	var late switchboard.Message
	e.call("POST", path, map[string]string{"text": "Accepted then failed"}, http.StatusAccepted, &late)
	e.eventually("the async failure to show", func() bool {
		m := e.message(conv, late.ID)
		return m.Status == switchboard.MsgFailed && m.Error != nil && m.Error.Code == 131047 && m.Error.Title != ""
	})
	e.fake.SetAsyncFailure("4915112345678", 0)

	// The retry action sends the failed message again.
	e.call("POST", fmt.Sprintf("%s/%d/retry", path, refused.ID), nil, http.StatusAccepted, nil)
	e.eventually("the retried message to go out", func() bool {
		m := e.message(conv, refused.ID)
		return m.Status == switchboard.MsgRead || m.Status == switchboard.MsgDelivered || m.Status == switchboard.MsgSent
	})
}

// TestWindowClosedThenTemplate: a free-form reply 24 h after the customer's last message is refused
// with window_closed and nothing reaches Meta; an approved template goes out.
func TestWindowClosedThenTemplate(t *testing.T) {
	e := startE2E(t, "")
	n, _ := e.fake.Number(e.number.PhoneNumberID)
	e.customerSays(graphtest.Envelope(n, time.Now().Add(-25*time.Hour), graphtest.TextMessage("14155550100", "John", "Are you open?")))
	conv := e.conversation("14155550100")
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", conv)

	before := len(e.fake.Sent())
	var errBody struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(e.call("POST", path, map[string]string{"text": "Sorry for the wait!"}, http.StatusUnprocessableEntity, nil), &errBody)
	if errBody.Error.Code != switchboard.EWINDOWCLOSED {
		t.Fatalf("want window_closed, got %q", errBody.Error.Code)
	}
	time.Sleep(300 * time.Millisecond) // give a wrongly queued message the chance to leave
	if len(e.fake.Sent()) != before {
		t.Fatal("a refused reply reached Meta")
	}

	if err := e.fake.AddTemplate(e.number.WABAID, []byte(`{"name":"follow_up","language":"en_US","category":"UTILITY","status":"APPROVED",
		"components":[{"type":"BODY","text":"Hi {{1}}, we are back. How can we help?"}]}`)); err != nil {
		t.Fatal(err)
	}
	e.call("POST", fmt.Sprintf("/api/v1/channels/%d/templates/sync", e.chID), nil, http.StatusOK, nil)
	var tpl switchboard.Message
	e.call("POST", path, map[string]any{"template": map[string]any{"name": "follow_up", "language": "en_US", "params": []string{"John"}}},
		http.StatusAccepted, &tpl)
	if tpl.Text != "Hi John, we are back. How can we help?" {
		t.Fatalf("template preview: %q", tpl.Text)
	}
	got, err := e.fake.WaitForSent(t.Context(), before+1)
	if err != nil {
		t.Fatal(err)
	}
	last := got[len(got)-1]
	if last.Type != "template" || last.Message.Template == nil || last.Message.Template.Name != "follow_up" {
		t.Fatalf("template body sent to Meta: %s", last.Body)
	}
}

// TestRepliesKeepTheirOrder: 100 replies written quickly to one conversation reach Meta in order.
func TestRepliesKeepTheirOrder(t *testing.T) {
	e := startE2E(t, "")
	body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("447700900123", "Sam", "Hi"))
	e.customerSays(body)
	conv := e.conversation("447700900123")
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", conv)
	for i := 1; i <= 100; i++ {
		e.call("POST", path, map[string]string{"text": fmt.Sprintf("reply %d", i)}, http.StatusAccepted, nil)
	}
	got, err := e.fake.WaitForSent(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range got[:100] {
		if want := fmt.Sprintf("reply %d", i+1); s.Message.Text == nil || s.Message.Text.Body != want {
			t.Fatalf("message %d reached Meta as %+v, want %q", i, s.Message.Text, want)
		}
	}
}
