package store_test

import (
	"strconv"
	"strings"
	"testing"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

func mustChannel(t *testing.T, s *store.Store, phoneNumberID string) *switchboard.Channel {
	t.Helper()
	c := &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, Name: "Support " + phoneNumberID, PhoneNumber: "+14155550123",
		PhoneNumberID: phoneNumberID, BusinessAccountID: "102290129340398", APIKey: "EAAG-secret-token-" + phoneNumberID,
		AppSecret: "app-secret-" + phoneNumberID, VerifyToken: "verify-token-0123456789", AssignmentMode: switchboard.AssignByLoad,
		DefaultCapacity: 10, Settings: switchboard.DefaultChannelSettings()}
	if err := s.CreateChannel(t.Context(), c); err != nil {
		t.Fatalf("create channel: %v", err)
	}
	return c
}

func TestChannels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		c := mustChannel(t, s, "106540352242922")
		got, err := s.Channel(ctx, c.ID)
		if err != nil || got.APIKey != c.APIKey || got.AppSecret != c.AppSecret || got.Settings.ReopenWindowHours != 24 {
			t.Fatalf("channel round trip: %+v %v", got, err)
		}
		// Secrets are encrypted at rest: the raw columns do not contain them.
		var apiKeyEnc, secretEnc string
		if err := s.SQL().QueryRowContext(ctx, `SELECT api_key_enc, app_secret_enc FROM channels WHERE id = `+strconv.FormatInt(c.ID, 10)).Scan(&apiKeyEnc, &secretEnc); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(apiKeyEnc, "secret-token") || strings.Contains(secretEnc, "app-secret") || !strings.HasPrefix(apiKeyEnc, "v1:") {
			t.Fatalf("secrets stored in clear: %q %q", apiKeyEnc, secretEnc)
		}
		dup := *c
		dup.ID = 0
		if err := s.CreateChannel(ctx, &dup); switchboard.ErrorFields(err)["phone_number_id"] == "" {
			t.Fatalf("a phone number id connects once: %v", err)
		}
		updated, err := s.UpdateChannel(ctx, c.ID, func(ch *switchboard.Channel) error {
			ch.Name = "Sales"
			ch.Settings.Greeting = switchboard.GreetingSettings{Enabled: true, Text: "Hello!"}
			return nil
		})
		if err != nil || updated.Name != "Sales" || updated.APIKey != c.APIKey {
			t.Fatalf("update: %+v %v", updated, err)
		}
		if _, err := s.UpdateChannel(ctx, c.ID, func(ch *switchboard.Channel) error { ch.PhoneNumber = "12"; return nil }); switchboard.ErrorFields(err)["phone_number"] == "" {
			t.Fatalf("invalid update accepted: %v", err)
		}
		if got, _ := s.Channel(ctx, c.ID); !got.Settings.Greeting.Enabled || got.PhoneNumber != "+14155550123" {
			t.Fatalf("settings lost or invalid update stored: %+v", got)
		}

		a := mustAgent(t, s, "Ada", "ada@example.com", switchboard.RoleAgent)
		if err := s.PutChannelMember(ctx, &switchboard.ChannelMember{ChannelID: c.ID, AgentID: a.ID, Capacity: 5}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutChannelMember(ctx, &switchboard.ChannelMember{ChannelID: c.ID, AgentID: a.ID, Capacity: 7}); err != nil {
			t.Fatal(err)
		}
		members, err := s.ListChannelMembers(ctx, c.ID)
		if err != nil || len(members) != 1 || members[0].Capacity != 7 || members[0].Agent.Name != "Ada" {
			t.Fatalf("members: %+v %v", members, err)
		}
		mine, _ := s.ListChannels(ctx, a.ID)
		if len(mine) != 1 {
			t.Fatalf("agent's channels: %d", len(mine))
		}

		if err := s.DeleteChannel(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Channel(ctx, c.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Fatalf("deleted channel still served: %v", err)
		}
		// The number can be connected again once its channel is deleted.
		again := *c
		again.ID = 0
		if err := s.CreateChannel(ctx, &again); err != nil {
			t.Fatalf("reconnect after delete: %v", err)
		}
	})
}
