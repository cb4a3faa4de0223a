package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"switchboard"
	"switchboard/whatsapp/graphtest"
)

// TestReplyReachesWhatsApp: an agent's reply reaches the Graph API in Meta's documented body shape,
// and the status webhooks that come back move it to delivered and read. On both databases.
func TestReplyReachesWhatsApp(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
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
		e.wantTextSent(got[0], "+33612345678", "Bonjour Marie, je regarde.")
		e.eventually("the reply to be read", func() bool {
			m := e.message(conv, sent.ID)
			return m.Status == switchboard.MsgRead && m.ExternalID == got[0].MessageID && m.DeliveredAt != nil
		})
	})
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
	var accepted []graphtest.SentMessage
	for _, s := range e.fake.Sent() {
		if s.Message.Text != nil && s.Message.Text.Body == "Throttled but delivered" {
			accepted = append(accepted, s)
		}
	}
	if len(accepted) != 1 {
		t.Fatalf("the reply reached Meta %d times, want once", len(accepted))
	}
	// Meta really refused it twice, with its throughput error, before accepting it.
	var storm []graphtest.RejectedSend
	for _, r := range e.fake.Rejected() {
		if r.Message.Text != nil && r.Message.Text.Body == "Throttled but delivered" {
			storm = append(storm, r)
		}
	}
	if len(storm) != 2 {
		t.Fatalf("the fake refused the reply %d times, want 2", len(storm))
	}
	for _, r := range storm {
		if r.Code != 130429 || r.Error == nil || r.Error.Subcode != 2494055 || r.Seq > accepted[0].Seq {
			t.Fatalf("refusal %+v, accepted as request %d", r, accepted[0].Seq)
		}
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

// TestTokenRejectedFlagsChannel: when Meta refuses the channel's token (Graph 190) the reply fails
// once, without retries, with Meta's code and title; the channel shows token_invalid; a PATCH with
// the new api_key clears the flag, and the retried reply and a new one go out with the new token.
func TestTokenRejectedFlagsChannel(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
		e := startE2E(t, url)
		body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("5511987654321", "Rafa", "Oi, tudo bem?"))
		e.customerSays(body)
		conv := e.conversation("5511987654321")
		path := fmt.Sprintf("/api/v1/conversations/%d/messages", conv)
		channel := fmt.Sprintf("/api/v1/channels/%d", e.chID)

		// The token is revoked at Meta: the fake now answers 190 to the old one.
		const newToken = "EAAG-e2e-rotated-token"
		n, _ := e.fake.Number(e.number.PhoneNumberID)
		n.Token = newToken
		e.fake.RegisterNumber(n)

		var dead switchboard.Message
		e.call("POST", path, map[string]string{"text": "Sent with a revoked token"}, http.StatusAccepted, &dead)
		var failed switchboard.Message
		e.eventually("the reply to fail with 190", func() bool {
			failed = e.message(conv, dead.ID)
			return failed.Status == switchboard.MsgFailed
		})
		var refused []graphtest.RejectedSend
		for _, r := range e.fake.Rejected() {
			if r.Message.Text != nil && r.Message.Text.Body == "Sent with a revoked token" {
				refused = append(refused, r)
			}
		}
		if len(refused) != 1 || refused[0].Code != 190 || refused[0].Header.Get("Authorization") != "Bearer "+e.number.Token {
			t.Fatalf("Meta saw %d attempts (a refused token is not retried): %+v", len(refused), refused)
		}
		if failed.Error == nil || failed.Error.Code != 190 || failed.Error.Title != refused[0].Error.Message {
			t.Fatalf("failure shown as %+v, Meta answered %q", failed.Error, refused[0].Error.Message)
		}

		type channelView struct {
			Status       string `json:"status"`
			StatusReason string `json:"status_reason"` // omitted when empty
			HasAPIKey    bool   `json:"has_api_key"`
		}
		var ch channelView
		e.call("GET", channel, nil, http.StatusOK, &ch)
		if ch.Status != switchboard.ChannelTokenInvalid || ch.StatusReason == "" {
			t.Fatalf("channel after a 190: %+v", ch)
		}

		// An admin pastes the new token: the flag clears.
		ch = channelView{}
		e.call("PATCH", channel, map[string]string{"api_key": newToken}, http.StatusOK, &ch)
		if ch.Status != switchboard.ChannelActive || ch.StatusReason != "" || !ch.HasAPIKey {
			t.Fatalf("channel after the new api_key: %+v", ch)
		}
		ch = channelView{}
		e.call("GET", channel, nil, http.StatusOK, &ch)
		if ch.Status != switchboard.ChannelActive || ch.StatusReason != "" {
			t.Fatalf("channel read back: %+v", ch)
		}

		// The failed reply is retried and a new one is written; both reach Meta with the new token.
		e.call("POST", fmt.Sprintf("%s/%d/retry", path, dead.ID), nil, http.StatusAccepted, nil)
		var fresh switchboard.Message
		e.call("POST", path, map[string]string{"text": "Sent with the new token"}, http.StatusAccepted, &fresh)
		for _, id := range []int64{dead.ID, fresh.ID} {
			e.eventually("the reply to go out with the new token", func() bool {
				m := e.message(conv, id)
				return m.ExternalID != "" && (m.Status == switchboard.MsgSent || m.Status == switchboard.MsgDelivered || m.Status == switchboard.MsgRead)
			})
		}
		out := map[string]bool{}
		for _, s := range e.fake.Sent() {
			if s.Message.Text != nil && s.Header.Get("Authorization") == "Bearer "+newToken {
				out[s.Message.Text.Body] = true
			}
		}
		if !out["Sent with a revoked token"] || !out["Sent with the new token"] {
			t.Fatalf("sent with the new token: %v", out)
		}
	})
}

// TestTemplateWithMediaHeaderReachesWhatsApp: a template whose header is an image or a document is
// sent over REST with header_params and reaches Meta with Meta's media header parameter, which the
// fake checks against the template it holds.
func TestTemplateWithMediaHeaderReachesWhatsApp(t *testing.T) {
	e := startE2E(t, "")
	body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("4915112345678", "Lena", "Wo ist mein Paket?"))
	e.customerSays(body)
	conv := e.conversation("4915112345678")
	for _, tpl := range []string{
		`{"name":"parcel_photo","language":"de","category":"UTILITY","components":[{"type":"HEADER","format":"IMAGE"},
			{"type":"BODY","text":"Hallo {{1}}, so sieht Ihr Paket aus."}]}`,
		`{"name":"invoice_ready","language":"de","category":"UTILITY","components":[{"type":"HEADER","format":"DOCUMENT"},
			{"type":"BODY","text":"Ihre Rechnung {{1}}."}]}`,
	} {
		if err := e.fake.AddTemplate(e.number.WABAID, []byte(tpl)); err != nil {
			t.Fatal(err)
		}
	}
	e.call("POST", fmt.Sprintf("/api/v1/channels/%d/templates/sync", e.chID), nil, http.StatusOK, nil)
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", conv)

	before := len(e.fake.Sent())
	const photo = "https://cdn.example.com/parcels/1042.jpg"
	var photoMsg, invoiceMsg switchboard.Message
	e.call("POST", path, map[string]any{"template": map[string]any{"name": "parcel_photo", "language": "de", "params": []string{"Lena"},
		"header_params": []any{map[string]string{"type": "image", "link": photo}}}}, http.StatusAccepted, &photoMsg)
	e.call("POST", path, map[string]any{"template": map[string]any{"name": "invoice_ready", "language": "de", "params": []string{"#1042"},
		"header_params": []any{map[string]string{"type": "document", "id": "1840", "filename": "Rechnung-1042.pdf"}}}}, http.StatusAccepted, &invoiceMsg)
	got, err := e.fake.WaitForSent(t.Context(), before+2)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"parcel_photo":  `{"type":"image","image":{"link":"` + photo + `"}}`,
		"invoice_ready": `{"type":"document","document":{"id":"1840","filename":"Rechnung-1042.pdf"}}`,
	}
	for _, s := range got[before:] {
		var wire struct {
			Type     string `json:"type"`
			Template struct {
				Name       string `json:"name"`
				Components []struct {
					Type       string            `json:"type"`
					Parameters []json.RawMessage `json:"parameters"`
				} `json:"components"`
			} `json:"template"`
		}
		if err := json.Unmarshal(s.Body, &wire); err != nil || wire.Type != "template" {
			t.Fatalf("body sent to Meta: %s", s.Body)
		}
		var header []json.RawMessage
		for _, c := range wire.Template.Components {
			if c.Type == "header" {
				header = c.Parameters
			}
		}
		if len(header) != 1 || string(header[0]) != want[wire.Template.Name] {
			t.Fatalf("%s header sent to Meta: %s, want [%s]", wire.Template.Name, header, want[wire.Template.Name])
		}
		delete(want, wire.Template.Name)
	}
	if len(want) != 0 {
		t.Fatalf("not sent: %v", want)
	}
	for _, id := range []int64{photoMsg.ID, invoiceMsg.ID} {
		e.eventually("the template to be accepted", func() bool { return e.message(conv, id).ExternalID != "" })
	}
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
