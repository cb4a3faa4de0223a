package server

import (
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

func TestWSResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := newWSEnv(t, st, HubOptions{}, nil)
		ch, other := mustWSChannel(t, st, "1001"), mustWSChannel(t, st, "2002")
		_, tok := mustWSAgent(t, st, "Ana", switchboard.RoleAgent, ch.ID)
		first := env.dial(tok, "")
		env.customerSays(ch, "33612345678", "wamid.0", "before", time.Now())
		cursor := first.nextOf(switchboard.EventMessageCreated).Seq
		first.conn.Close()

		// 50 messages while away, interleaved with another channel's traffic the agent must not get.
		for i := range 50 {
			env.customerSays(ch, "33612345678", "wamid.m"+itoa64(int64(i)), "m"+itoa64(int64(i)), time.Now())
			env.customerSays(other, "4915123456789", "wamid.o"+itoa64(int64(i)), "other", time.Now())
		}
		check := func(t *testing.T, c *wsConn) {
			t.Helper()
			last := cursor
			for i := range 50 {
				f := c.nextOf(switchboard.EventMessageCreated)
				if f.field("text") != "m"+itoa64(int64(i)) || f.Seq <= last {
					t.Fatalf("event %d: seq %d text %q after seq %d", i, f.Seq, f.field("text"), last)
				}
				last = f.Seq
			}
		}
		t.Run("reconnect with ?last_seq", func(t *testing.T) {
			env := env.in(t)
			c := env.dial(tok, "?last_seq="+itoa64(cursor))
			if c.hello.Seq != cursor {
				t.Fatalf("hello seq %d, want the client's cursor %d", c.hello.Seq, cursor)
			}
			check(t, c)
			// Then the live stream continues without a repeat.
			env.customerSays(ch, "33612345678", "wamid.live", "live", time.Now())
			if f := c.nextOf(switchboard.EventMessageCreated); f.field("text") != "live" {
				t.Fatalf("after the replay: %s", f.Data)
			}
		})
		t.Run("resume frame", func(t *testing.T) {
			c := env.in(t).dial(tok, "")
			c.send(frameResume, "", map[string]any{"last_seq": cursor})
			check(t, c)
		})
		t.Run("a cursor the log no longer keeps asks for a resync", func(t *testing.T) {
			if _, err := st.PruneEvents(t.Context(), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			c := env.in(t).dial(tok, "?last_seq="+itoa64(cursor))
			if f := c.next(); f.Type != "resync" || f.Seq < cursor {
				t.Fatalf("got %+v, want resync", f)
			}
		})
	})
}

func TestWSMembershipRefresh(t *testing.T) {
	st := storetest.SQLite(t, storetest.Options{})
	env := newWSEnv(t, st, HubOptions{}, nil)
	ch := mustWSChannel(t, st, "1001")
	agent, tok := mustWSAgent(t, st, "Newcomer", switchboard.RoleAgent)
	c := env.dial(tok, "")
	if err := st.PutChannelMember(t.Context(), &switchboard.ChannelMember{ChannelID: ch.ID, AgentID: agent.ID, Capacity: 5}); err != nil {
		t.Fatal(err)
	}
	// An admin's change to the channel is announced with channel.updated: memberships are re-read.
	row := `INSERT INTO events (type, channel_id, conversation_id, data, created_at) VALUES ('channel.updated', ` +
		itoa64(ch.ID) + `, 0, '{}', CURRENT_TIMESTAMP) RETURNING seq`
	var seq int64
	if err := st.SQL().QueryRow(row).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	env.broker.Publish(t.Context(), []switchboard.Event{{Seq: seq, Type: switchboard.EventChannelUpdated, ChannelID: ch.ID}})
	eventually(t, "membership refresh", func() bool {
		env.hub.mu.Lock()
		defer env.hub.mu.Unlock()
		for cl := range env.hub.clients {
			return cl.inChannel(ch.ID)
		}
		return false
	})
	env.customerSays(ch, "33612345678", "wamid.1", "first contact", time.Now())
	if f := c.nextOf(switchboard.EventMessageCreated); f.field("text") != "first contact" {
		t.Fatalf("got %s", f.Data)
	}
	// A disabled account is disconnected at the next refresh.
	disabled := true
	if _, err := st.UpdateAgent(t.Context(), agent.ID, store.AgentUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	env.hub.refreshAll(t.Context())
	if err := c.closed(); !isCloseCode(err, 1008) {
		t.Fatalf("closed with %v, want 1008", err)
	}
}
