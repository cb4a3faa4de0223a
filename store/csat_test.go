package store_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

// sentSurvey resolves the conversation and stores its survey as sent, expiring in 24 hours.
func sentSurvey(t *testing.T, s *store.Store, conv *switchboard.Conversation, agentID *int64) *switchboard.CSATSurvey {
	t.Helper()
	ctx := t.Context()
	res, err := s.ResolveForCSATTest(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	sv, _, err := s.CreateCSATSurvey(ctx, &switchboard.CSATSurvey{ConversationID: conv.ID, ChannelID: conv.ChannelID, AgentID: agentID,
		Resolution: res, Status: switchboard.SurveyPending}, "")
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := s.QueueOutbound(ctx, &switchboard.Message{ConversationID: conv.ID, Sender: switchboard.SenderSystem,
		Type: "interactive", Text: "How would you rate our support?", ClientID: fmt.Sprintf("auto:csat:%d", sv.ID)})
	if err != nil {
		t.Fatal(err)
	}
	sv, err = s.CSATSurveySent(ctx, sv.ID, msg.ID, sv.SentAt.Add(24*time.Hour))
	if err != nil || sv.MessageID == nil || *sv.MessageID != msg.ID {
		t.Fatalf("sent: %+v %v", sv, err)
	}
	return sv
}

func listReply(surveyID int64, rating int) *switchboard.Message {
	id := switchboard.CSATReplyID(surveyID, rating)
	title := switchboard.CSATRatingTitle(rating)
	payload := fmt.Sprintf(`{"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":%q,"title":%q}}}`, id, title)
	return &switchboard.Message{Type: "interactive", Text: title, Payload: json.RawMessage(payload)}
}

func typed(text string) *switchboard.Message {
	return &switchboard.Message{Type: switchboard.TypeText, Text: text}
}

func TestCSATSurveyPerResolution(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		clock.Set(t0)
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		conv := mustConversation(t, s, ch, "33612345678", "wamid.C1", "my parcel?", t0)
		first := sentSurvey(t, s, conv, nil)
		if first.Resolution != 1 || first.Status != switchboard.SurveyPending || !first.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("first survey: %+v", first)
		}
		again, _, err := s.CreateCSATSurvey(ctx, &switchboard.CSATSurvey{ConversationID: conv.ID, ChannelID: ch.ID, Resolution: 1,
			Status: switchboard.SurveyPending}, "")
		if err != nil || again.ID != first.ID || again.MessageID == nil {
			t.Fatalf("the same resolution keeps its one survey: %+v %v", again, err)
		}
		jobs, _ := s.ListJobs(ctx, store.JobFilter{Kind: switchboard.CSATExpireJobKind})
		if len(jobs) != 1 || !jobs[0].RunAt.Equal(first.ExpiresAt) || jobs[0].Key == switchboard.ConversationJobKey(conv.ID) {
			t.Fatalf("one expiry job at the expiry time, not blocking the conversation's jobs: %+v", jobs)
		}
		// A message that is not an answer reopens the conversation: the survey is cancelled.
		clock.Advance(time.Hour)
		if id, err := s.CSATReplyForTest(ctx, ch, conv.ContactID, typed("one more question")); err != nil || id != 0 {
			t.Fatalf("not an answer: %d %v", id, err)
		}
		mustConversation(t, s, ch, "33612345678", "wamid.C2", "one more question", clock.Now())
		if got, _ := s.CSATSurvey(ctx, first.ID); got.Status != switchboard.SurveyCancelled {
			t.Fatalf("cancelled on reopen: %+v", got)
		}
		second := sentSurvey(t, s, conv, nil)
		if second.ID == first.ID || second.Resolution != 2 {
			t.Fatalf("a second resolution gets a second survey: %+v", second)
		}
		latest, err := s.LatestCSATSurvey(ctx, conv.ID)
		if err != nil || latest.ID != second.ID {
			t.Fatalf("latest: %+v %v", latest, err)
		}
		// A skipped survey notes why in the conversation.
		clock.Advance(time.Hour)
		mustConversation(t, s, ch, "33612345678", "wamid.C3", "and another", clock.Now())
		res, _ := s.ResolveForCSATTest(ctx, conv.ID)
		skipped, events, err := s.CreateCSATSurvey(ctx, &switchboard.CSATSurvey{ConversationID: conv.ID, ChannelID: ch.ID, Resolution: res,
			Status: switchboard.SurveySkipped}, "Satisfaction survey not sent: the window is closed.")
		if err != nil || skipped.Status != switchboard.SurveySkipped || len(events) != 1 {
			t.Fatalf("skipped: %+v %+v %v", skipped, events, err)
		}
		if _, err := s.LatestCSATSurvey(ctx, 999999); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("no survey: %v", err)
		}
	})
}

func TestCSATReplyCapture(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	for _, tc := range []struct {
		name     string
		after    time.Duration
		reply    func(sv *switchboard.CSATSurvey) *switchboard.Message
		captured bool
		status   string
		rating   int
	}{
		{"list reply", time.Minute, func(sv *switchboard.CSATSurvey) *switchboard.Message { return listReply(sv.ID, 4) }, true, switchboard.SurveyAnswered, 4},
		{"typed 5", time.Minute, func(*switchboard.CSATSurvey) *switchboard.Message { return typed("5") }, true, switchboard.SurveyAnswered, 5},
		{"stars", time.Minute, func(*switchboard.CSATSurvey) *switchboard.Message { return typed("⭐⭐⭐") }, true, switchboard.SurveyAnswered, 3},
		{"another survey's choice", time.Minute, func(sv *switchboard.CSATSurvey) *switchboard.Message { return listReply(sv.ID+100, 5) }, false, switchboard.SurveyCancelled, 0},
		{"a question", time.Minute, func(*switchboard.CSATSurvey) *switchboard.Message { return typed("where is my order?") }, false, switchboard.SurveyCancelled, 0},
		{"a number change note", time.Minute, func(*switchboard.CSATSurvey) *switchboard.Message {
			return &switchboard.Message{Type: switchboard.TypeActivity, Text: "The customer changed their number."}
		}, false, switchboard.SurveyPending, 0},
		{"too late", 25 * time.Hour, func(*switchboard.CSATSurvey) *switchboard.Message { return typed("5") }, false, switchboard.SurveyExpired, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
				clock.Set(t0)
				ctx := t.Context()
				ch := mustChannel(t, s, "106540352242922")
				conv := mustConversation(t, s, ch, "33612345678", "wamid.R1", "hi", t0)
				sv := sentSurvey(t, s, conv, nil)
				clock.Advance(tc.after)
				id, err := s.CSATReplyForTest(ctx, ch, conv.ContactID, tc.reply(sv))
				if err != nil || (id == conv.ID) != tc.captured {
					t.Fatalf("captured into %d (conversation %d), want %v: %v", id, conv.ID, tc.captured, err)
				}
				got, _ := s.CSATSurvey(ctx, sv.ID)
				if got.Status != tc.status || (tc.rating > 0 && (got.Rating == nil || *got.Rating != tc.rating)) || got.AwaitComment {
					t.Fatalf("survey: %+v", got)
				}
				if tc.captured && (got.AnsweredAt == nil || !got.AnsweredAt.Equal(clock.Now())) {
					t.Fatalf("answered at: %v", got.AnsweredAt)
				}
			})
		})
	}
}

func TestCSATComment(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		clock.Set(t0)
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		ch.Settings.CSAT.AskComment = true
		conv := mustConversation(t, s, ch, "33612345678", "wamid.K1", "hi", t0)
		sv := sentSurvey(t, s, conv, nil)
		if id, _ := s.CSATReplyForTest(ctx, ch, conv.ContactID, typed("2")); id != conv.ID {
			t.Fatal("rating not captured")
		}
		if got, _ := s.CSATSurvey(ctx, sv.ID); !got.AwaitComment || *got.Rating != 2 {
			t.Fatalf("waits for a comment: %+v", got)
		}
		clock.Advance(time.Minute)
		if id, _ := s.CSATReplyForTest(ctx, ch, conv.ContactID, typed("  The agent was slow. ")); id != conv.ID {
			t.Fatal("comment not captured")
		}
		got, _ := s.CSATSurvey(ctx, sv.ID)
		if got.AwaitComment || got.Comment != "The agent was slow." || *got.Rating != 2 {
			t.Fatalf("comment: %+v", got)
		}
		if id, _ := s.CSATReplyForTest(ctx, ch, conv.ContactID, typed("and another thing")); id != 0 {
			t.Fatal("only one comment is captured")
		}

		// A picture instead of a comment ends the wait; the picture reopens the conversation.
		conv2 := mustConversation(t, s, ch, "14155550100", "wamid.K2", "hi", clock.Now())
		sv2 := sentSurvey(t, s, conv2, nil)
		s.CSATReplyForTest(ctx, ch, conv2.ContactID, typed("4"))
		if id, _ := s.CSATReplyForTest(ctx, ch, conv2.ContactID, &switchboard.Message{Type: "image"}); id != 0 {
			t.Fatal("an image is not a comment")
		}
		if got, _ := s.CSATSurvey(ctx, sv2.ID); got.AwaitComment || got.Status != switchboard.SurveyAnswered {
			t.Fatalf("after an image: %+v", got)
		}
	})
}

func TestCSATExpiry(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		clock.Set(t0)
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		conv := mustConversation(t, s, ch, "33612345678", "wamid.E1", "hi", t0)
		sv := sentSurvey(t, s, conv, nil)
		clock.Advance(23 * time.Hour)
		if got, events, err := s.ExpireCSATSurvey(ctx, sv.ID); err != nil || got.Status != switchboard.SurveyPending || len(events) != 0 {
			t.Fatalf("early: %+v %v", got, err)
		}
		clock.Advance(time.Hour)
		got, events, err := s.ExpireCSATSurvey(ctx, sv.ID)
		if err != nil || got.Status != switchboard.SurveyExpired || len(events) != 1 {
			t.Fatalf("expired: %+v %+v %v", got, events, err)
		}
		if got, events, err := s.ExpireCSATSurvey(ctx, sv.ID); err != nil || got.Status != switchboard.SurveyExpired || len(events) != 0 {
			t.Fatalf("again: %+v %v", got, err)
		}
		if id, _ := s.CSATReplyForTest(ctx, ch, conv.ContactID, typed("5")); id != 0 {
			t.Fatal("an expired survey takes no answer")
		}
		msgs, _, _ := s.ListMessages(ctx, conv.ID, "", 0)
		if last := msgs[len(msgs)-1]; last.Type != switchboard.TypeActivity {
			t.Fatalf("the expiry is noted: %+v", last)
		}
		if _, _, err := s.ExpireCSATSurvey(ctx, 999999); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("unknown survey: %v", err)
		}
		if n, err := s.CancelCSATSurveys(ctx, conv.ID); err != nil || n != 0 {
			t.Fatalf("nothing left to cancel: %d %v", n, err)
		}
	})
}
