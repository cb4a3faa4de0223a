package graphtest

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"switchboard/whatsapp"
)

func TestStatusWebhooksSignedInOrder(t *testing.T) {
	h := newHarness(t, Options{StatusDelay: time.Millisecond})
	res, err := h.client.Send(t.Context(), testToken, testPNID, whatsapp.OutboundMessage{
		To: customer, Text: &whatsapp.Text{Body: "hi"}, BizOpaqueCallbackData: "job-42",
	})
	if err != nil {
		t.Fatal(err)
	}
	ds := h.hooks.wait(3)
	for _, d := range ds {
		if d.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", d.Header.Get("Content-Type"))
		}
		c := d.Webhook.Changes[0]
		if c.WABAID != testWABA || c.PhoneNumberID != testPNID || c.DisplayPhoneNumber != testDisplay || c.Field != "messages" {
			t.Errorf("envelope = %+v", c)
		}
	}
	got := statuses(ds)
	var order []string
	for _, s := range got {
		order = append(order, s.Status)
		if s.ID != res.MessageID || s.RecipientID != customer || s.BizOpaqueCallbackData != "job-42" || !s.Timestamp.Equal(h.clock.Now().Truncate(time.Second)) {
			t.Errorf("status = %+v", s)
		}
		if s.Conversation == nil || s.Conversation.OriginType != "service" {
			t.Errorf("%s conversation = %+v", s.Status, s.Conversation)
		}
	}
	if want := []string{"sent", "delivered", "read"}; !reflect.DeepEqual(order, want) {
		t.Fatalf("order = %v, want %v", order, want)
	}
	sent, delivered, read := got[0], got[1], got[2]
	if sent.Pricing == nil || sent.Pricing.Type != "free_customer_service" || sent.Conversation.ExpiresAt.IsZero() {
		t.Errorf("sent = %+v %+v", sent.Pricing, sent.Conversation)
	}
	if delivered.Pricing == nil || read.Pricing != nil || !delivered.Conversation.ExpiresAt.IsZero() {
		t.Errorf("pricing must come with delivered, not read: %+v / %+v", delivered.Pricing, read.Pricing)
	}
}

func TestStatusFlowChoices(t *testing.T) {
	tests := []struct {
		name  string
		flow  []string
		opts  Options
		build func() whatsapp.OutboundMessage
		want  []string
	}{
		{"only sent", []string{"sent"}, Options{}, textTo(customer), []string{"sent"}},
		{"sent and delivered", []string{"sent", "delivered"}, Options{}, textTo(customer), []string{"sent", "delivered"}},
		{"voice played", []string{"sent", "delivered", "read", "played"}, Options{}, func() whatsapp.OutboundMessage {
			return whatsapp.OutboundMessage{To: customer, Media: &whatsapp.OutboundMedia{Type: "audio", ID: "1"}}
		}, []string{"sent", "delivered", "read", "played"}},
		{"reaction only sent", nil, Options{}, func() whatsapp.OutboundMessage {
			return whatsapp.OutboundMessage{To: customer, Reaction: &whatsapp.OutboundReaction{MessageID: "wamid.IN", Emoji: "👍"}}
		}, []string{"sent"}},
		{"v24 without conversation", []string{"sent"}, Options{OmitConversation: true}, textTo(customer), []string{"sent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts)
			if tt.flow != nil {
				h.fake.SetStatusFlow(tt.flow...)
			}
			if _, err := h.client.Send(t.Context(), testToken, testPNID, tt.build()); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range statuses(h.hooks.wait(len(tt.want))) {
				got = append(got, s.Status)
				if s.Status != "played" && tt.opts.OmitConversation != (s.Conversation == nil) {
					t.Errorf("conversation = %+v with OmitConversation %v", s.Conversation, tt.opts.OmitConversation)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("statuses = %v, want %v", got, tt.want)
			}
			time.Sleep(20 * time.Millisecond)
			if n := h.hooks.count(); n != len(tt.want) {
				t.Errorf("%d webhooks, want %d", n, len(tt.want))
			}
		})
	}
}

func textTo(to string) func() whatsapp.OutboundMessage {
	return func() whatsapp.OutboundMessage {
		return whatsapp.OutboundMessage{To: to, Text: &whatsapp.Text{Body: "x"}}
	}
}

func TestNoStatusFlow(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.SetStatusFlow()
	if _, err := h.sendText(t.Context(), "quiet"); err != nil {
		t.Fatal(err)
	}
	h.fake.Close() // waits for any background webhook
	if n := h.hooks.count(); n != 0 {
		t.Errorf("%d webhooks with an empty flow", n)
	}
}

func TestAsyncFailureWebhook(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.SetAsyncFailure("+49 151 12345678", 131047)
	res, err := h.sendText(t.Context(), "outside the window")
	if err != nil {
		t.Fatalf("send must be accepted: %v", err)
	}
	got := statuses(h.hooks.wait(1))
	if len(got) != 1 || got[0].Status != "failed" || got[0].ID != res.MessageID || len(got[0].Errors) != 1 {
		t.Fatalf("statuses = %+v", got)
	}
	e := got[0].Errors[0]
	if e.Code != 131047 || e.Title != "Re-engagement message" || e.Details == "" || whatsapp.Classify(e) != whatsapp.ClassWindowClosed {
		t.Errorf("error = %+v", e)
	}
	h.fake.SetAsyncFailure(customer, 0)
	if _, err := h.sendText(t.Context(), "back to normal"); err != nil {
		t.Fatal(err)
	}
	if s := statuses(h.hooks.wait(2)); s[1].Status != "sent" {
		t.Errorf("after clearing: %+v", s[1])
	}
}

func TestWebhookRetries(t *testing.T) {
	h := newHarness(t, Options{WebhookAttempts: 3})
	h.fake.SetStatusFlow("sent")
	h.hooks.refuseNext(2)
	if _, err := h.sendText(t.Context(), "retry me"); err != nil {
		t.Fatal(err)
	}
	ds := h.hooks.wait(3)
	if string(ds[0].Body) != string(ds[1].Body) || string(ds[1].Body) != string(ds[2].Body) {
		t.Error("retries must repeat the same body")
	}
	h.fake.Close()
	if n := h.hooks.count(); n != 3 {
		t.Errorf("%d posts, want 3", n)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	h := newHarness(t, Options{WebhookAttempts: 2})
	h.fake.SetStatusFlow("sent")
	h.hooks.refuseNext(10)
	if _, err := h.sendText(t.Context(), "never acknowledged"); err != nil {
		t.Fatal(err)
	}
	h.hooks.wait(2)
	h.fake.Close()
	if n := h.hooks.count(); n != 2 {
		t.Errorf("%d posts, want 2", n)
	}
}

func TestDeliverRequiresWebhookURL(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.RegisterNumber(Number{PhoneNumberID: "2", Token: "t"})
	if _, err := h.fake.Deliver(t.Context(), "2", []byte("{}")); err == nil {
		t.Error("Deliver without a webhook URL succeeded")
	}
	if _, err := h.fake.Deliver(t.Context(), "404", []byte("{}")); err == nil {
		t.Error("Deliver to an unknown number succeeded")
	}
	resp, err := h.fake.Deliver(t.Context(), testPNID, []byte(`{"object":"whatsapp_business_account","entry":[]}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("Deliver = %v, %v", resp, err)
	}
	resp.Body.Close()
}
