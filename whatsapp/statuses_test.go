package whatsapp

import (
	"reflect"
	"testing"
	"time"
)

func TestParseWebhookStatuses(t *testing.T) {
	base := func(status string) Status {
		return Status{ID: fixtureOurID, Status: status, Timestamp: fixtureTime, RecipientID: fixtureCust}
	}
	freeService := &Pricing{PricingModel: "PMP", Type: "free_customer_service", Category: "service"}
	tests := []struct {
		fixture string
		want    Status
		rank    int
	}{
		{"status_sent", func() Status {
			s := base(StatusSent)
			s.BizOpaqueCallbackData = "msg-8812"
			s.Conversation = &StatusConversation{ID: "c0ffee00d1a2b3c4d5e6f708192a3b4c",
				ExpiresAt: time.Unix(1767312000, 0).UTC(), OriginType: "service"}
			s.Pricing = freeService
			return s
		}(), RankSent},
		{"status_delivered", func() Status {
			s := base(StatusDelivered)
			s.Conversation = &StatusConversation{ID: "c0ffee00d1a2b3c4d5e6f708192a3b4c", OriginType: "service"}
			s.Pricing = freeService
			return s
		}(), RankDelivered},
		{"status_read", base(StatusRead), RankRead},
		{"status_played", base(StatusPlayed), RankPlayed},
		{"status_failed", func() Status {
			s := base(StatusFailed)
			s.Errors = []Error{{Code: 131047, Title: "Re-engagement message", Message: "Re-engagement message",
				Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
				Href:    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}}
			return s
		}(), RankFailed},
		{"status_v24_no_conversation", func() Status {
			s := base(StatusSent)
			s.Pricing = &Pricing{Billable: true, PricingModel: "PMP", Type: "regular", Category: "utility"}
			return s
		}(), RankSent},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			c := parseOne(t, tt.fixture)
			if c.PhoneNumberID != fixturePNID || len(c.Messages) != 0 || len(c.Contacts) != 0 {
				t.Errorf("envelope: %q, %d messages, %d contacts", c.PhoneNumberID, len(c.Messages), len(c.Contacts))
			}
			if len(c.Statuses) != 1 {
				t.Fatalf("%d statuses, want 1", len(c.Statuses))
			}
			got := c.Statuses[0]
			got.Raw = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("status mismatch\n got: %s\nwant: %s", jsonString(got), jsonString(tt.want))
			}
			if got.Rank() != tt.rank || got.Failed() != (tt.rank == RankFailed) {
				t.Errorf("Rank = %d, Failed = %v; want rank %d", got.Rank(), got.Failed(), tt.rank)
			}
		})
	}
}

func TestFailedStatusClassifiesLikeSendErrors(t *testing.T) {
	c := parseOne(t, "status_failed")
	if got := Classify(c.Statuses[0].Errors[0]); got != ClassWindowClosed {
		t.Errorf("Classify(131047 status error) = %v, want window_closed", got)
	}
}

// TestStatusRankMonotonic replays statuses out of order, with duplicates, and checks that applying only
// upgrades ends in the right state: never backwards, failed final.
func TestStatusRankMonotonic(t *testing.T) {
	apply := func(seq ...string) string {
		current := ""
		for _, s := range seq {
			if StatusRank(s) > StatusRank(current) {
				current = s
			}
		}
		return current
	}
	tests := []struct {
		seq  []string
		want string
	}{
		{[]string{"sent", "delivered", "read"}, "read"},
		{[]string{"read", "delivered", "sent"}, "read"},
		{[]string{"delivered", "delivered", "sent"}, "delivered"},
		{[]string{"sent", "read"}, "read"},
		{[]string{"read", "played", "read"}, "played"},
		{[]string{"sent", "failed", "sent", "delivered"}, "failed"},
		{[]string{"deleted", "warning"}, ""},
		{[]string{"sent", "something_new"}, "sent"},
	}
	for _, tt := range tests {
		if got := apply(tt.seq...); got != tt.want {
			t.Errorf("apply(%v) = %q, want %q", tt.seq, got, tt.want)
		}
	}
}
