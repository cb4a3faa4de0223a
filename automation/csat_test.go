package automation_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"switchboard"
	"switchboard/automation"
	"switchboard/store"
	"switchboard/whatsapp"
)

func TestSurveyMessageFitsWhatsApp(t *testing.T) {
	sv := &switchboard.CSATSurvey{ID: 9876543210, ConversationID: 42}
	list := automation.SurveyMessage(automation.SurveyByList, sv, switchboard.CSATSettings{})
	var out whatsapp.OutboundMessage
	if err := json.Unmarshal(list.Payload, &out); err != nil {
		t.Fatal(err)
	}
	out.To = "33612345678"
	if err := out.Validate(); err != nil {
		t.Fatalf("the list breaks WhatsApp's limits: %v", err)
	}
	in := out.Interactive
	if list.Type != "interactive" || in == nil || in.Type != whatsapp.InteractiveList || in.Body != automation.DefaultCSATQuestion ||
		len(in.Sections) != 1 || len(in.Sections[0].Rows) != 5 || list.Text != automation.DefaultCSATQuestion {
		t.Fatalf("list: %+v %+v", list, in)
	}
	for i, row := range in.Sections[0].Rows {
		sid, rating, ok := switchboard.ParseCSATReplyID(row.ID)
		if !ok || sid != sv.ID || rating != 5-i || row.Title != switchboard.CSATRatingTitle(5-i) {
			t.Fatalf("row %d: %+v", i, row)
		}
	}
	tpl := automation.SurveyMessage(automation.SurveyByTemplate, sv, switchboard.CSATSettings{TemplateName: "csat_survey", TemplateLanguage: "en_US"})
	out = whatsapp.OutboundMessage{}
	if err := json.Unmarshal(tpl.Payload, &out); err != nil {
		t.Fatal(err)
	}
	out.To = "33612345678"
	if err := out.Validate(); err != nil || tpl.Type != switchboard.TypeTemplate || out.Template.Name != "csat_survey" || out.Template.Language != "en_US" {
		t.Fatalf("template: %+v %v", out.Template, err)
	}
}

func TestPlanSurvey(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	recent, old := now.Add(-time.Hour), now.Add(-25*time.Hour)
	withTemplate := switchboard.CSATSettings{Enabled: true, TemplateName: "csat", TemplateLanguage: "en"}
	for _, tc := range []struct {
		cs       switchboard.CSATSettings
		inbound  *time.Time
		optedOut bool
		want     string
	}{
		{switchboard.CSATSettings{Enabled: true}, &recent, false, automation.SurveyByList},
		{switchboard.CSATSettings{Enabled: true}, &old, false, automation.SurveySkip},
		{withTemplate, &old, false, automation.SurveyByTemplate},
		{withTemplate, &recent, false, automation.SurveyByList},
		{withTemplate, &old, true, automation.SurveySkip},
		{switchboard.CSATSettings{Enabled: true}, nil, false, automation.SurveySkip},
	} {
		conv := &switchboard.Conversation{LastInboundAt: tc.inbound, Contact: &switchboard.Contact{OptedOut: tc.optedOut}}
		if how, note := automation.PlanSurvey(tc.cs, conv, now); how != tc.want || (how == automation.SurveySkip) != (note != "") {
			t.Errorf("%+v: %s %q, want %s", tc, how, note, tc.want)
		}
	}
}

func csatOn(s *switchboard.ChannelSettings) { s.CSAT.Enabled = true }

// survey resolves the conversation and runs the resolve automation, as the resolve action will.
func (e *env) survey(convID int64, agentID *int64) *switchboard.CSATSurvey {
	e.t.Helper()
	res := e.resolve(convID)
	sv, err := e.svc.OnResolved(e.t.Context(), convID, res, agentID)
	if err != nil {
		e.t.Fatal(err)
	}
	return sv
}

// tap receives the customer's choice in a survey's list.
func (e *env) tap(waID string, sv *switchboard.CSATSurvey, rating int) (switchboard.InboundJob, automation.Outcome) {
	e.t.Helper()
	title := switchboard.CSATRatingTitle(rating)
	payload := fmt.Sprintf(`{"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":%q,"title":%q}}}`,
		switchboard.CSATReplyID(sv.ID, rating), title)
	job := e.receive(waID, &switchboard.Message{Type: "interactive", Text: title, Payload: json.RawMessage(payload)})
	return job, e.handle(job)
}

func (e *env) surveyNow(id int64) *switchboard.CSATSurvey {
	e.t.Helper()
	sv, err := e.s.CSATSurvey(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return sv
}

func TestCSATPerResolution(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	each(t, start, csatOn, func(t *testing.T, e *env) {
		ctx := t.Context()
		job, _ := e.text("33612345678", "My parcel is late")
		agent := int64(7)
		e.clock.Advance(10 * time.Minute)
		first := e.survey(job.ConversationID, &agent)
		if first.Status != switchboard.SurveyPending || first.MessageID == nil || first.Resolution != 1 || *first.AgentID != 7 ||
			!first.ExpiresAt.Equal(e.clock.Now().Add(24*time.Hour)) {
			t.Fatalf("first survey: %+v", first)
		}
		sent := e.automated(job.ConversationID)
		if len(sent) != 1 || sent[0].Type != "interactive" || sent[0].Status != switchboard.MsgQueued || len(sent[0].Payload) == 0 {
			t.Fatalf("survey message: %+v", sent)
		}
		if again, err := e.svc.OnResolved(ctx, job.ConversationID, 1, &agent); err != nil || again.ID != first.ID || len(e.automated(job.ConversationID)) != 1 {
			t.Fatalf("the same resolution again sends nothing: %+v %v", again, err)
		}
		payload, _ := json.Marshal(switchboard.CSATSendJob{ConversationID: job.ConversationID, Resolution: 1, AgentID: &agent})
		if err := e.svc.SendSurveyJob(ctx, &switchboard.Job{Kind: switchboard.CSATSendJobKind, Payload: payload}); err != nil || len(e.automated(job.ConversationID)) != 1 {
			t.Fatalf("a retried send job sends nothing: %v", err)
		}
		if err := e.svc.SendSurveyJob(ctx, &switchboard.Job{Payload: json.RawMessage(`{"conversation_id":1}`)}); !switchboard.IsCode(err, switchboard.EINVALID) {
			t.Fatalf("a send job without a resolution: %v", err)
		}

		// The customer taps "4 – Good": recorded, and the conversation stays resolved.
		e.clock.Advance(time.Minute)
		answer, out := e.tap("33612345678", first, 4)
		conv := e.conversation(job.ConversationID)
		if answer.ConversationID != conv.ID || answer.Reopened || !out.CSATAnswer || out.Route || conv.Status != switchboard.StatusResolved {
			t.Fatalf("list reply: %+v %+v status %s", answer, out, conv.Status)
		}
		if got := e.surveyNow(first.ID); got.Status != switchboard.SurveyAnswered || *got.Rating != 4 {
			t.Fatalf("rating: %+v", got)
		}
		if got := texts(e.activities(conv.ID)); len(got) != 1 || got[0] != "The customer rated the conversation 4 – Good." {
			t.Fatalf("activity: %q", got)
		}

		// A new question reopens the conversation; its next resolution gets its own survey, answered "5".
		e.clock.Advance(time.Hour)
		if reopen, out := e.text("33612345678", "One more question"); !reopen.Reopened || !out.Route || out.CSATAnswer {
			t.Fatalf("reopen: %+v %+v", reopen, out)
		}
		second := e.survey(job.ConversationID, nil)
		if second.ID == first.ID || second.Resolution != 2 || second.AgentID != nil {
			t.Fatalf("second survey: %+v", second)
		}
		e.clock.Advance(time.Minute)
		if typed, out := e.text("33612345678", "5"); typed.ConversationID != conv.ID || !out.CSATAnswer || out.Route {
			t.Fatalf("typed 5: %+v %+v", typed, out)
		}
		if got := e.surveyNow(second.ID); got.Status != switchboard.SurveyAnswered || *got.Rating != 5 {
			t.Fatalf("second rating: %+v", got)
		}
		if got := e.surveyNow(first.ID); *got.Rating != 4 {
			t.Fatalf("the first survey keeps its rating: %+v", got)
		}
		if e.conversation(conv.ID).Status != switchboard.StatusResolved {
			t.Fatal("a typed rating does not reopen the conversation")
		}
	})
}

func TestCSATCancelledOnReopen(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	each(t, start, csatOn, func(t *testing.T, e *env) {
		job, _ := e.text("33612345678", "Hello")
		sv := e.survey(job.ConversationID, nil)
		e.clock.Advance(time.Minute)
		reopen, out := e.text("33612345678", "Actually, it still does not work")
		if !reopen.Reopened || out.CSATAnswer || !out.Route {
			t.Fatalf("reopen: %+v %+v", reopen, out)
		}
		if got := e.surveyNow(sv.ID); got.Status != switchboard.SurveyCancelled {
			t.Fatalf("survey: %+v", got)
		}
		e.clock.Advance(time.Minute)
		if _, out := e.text("33612345678", "5"); out.CSATAnswer {
			t.Fatal("a cancelled survey takes no answer")
		}
	})
}

func TestCSATExpires(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	each(t, start, func(s *switchboard.ChannelSettings) { s.CSAT = switchboard.CSATSettings{Enabled: true, ExpiryHours: 6} }, func(t *testing.T, e *env) {
		ctx := t.Context()
		job, _ := e.text("33612345678", "Hello")
		sv := e.survey(job.ConversationID, nil)
		jobs, _ := e.s.ListJobs(ctx, store.JobFilter{Kind: switchboard.CSATExpireJobKind})
		if len(jobs) != 1 || !jobs[0].RunAt.Equal(start.Add(6*time.Hour)) {
			t.Fatalf("expiry job: %+v", jobs)
		}
		e.clock.Advance(5 * time.Hour)
		if err := e.svc.ExpireSurveyJob(ctx, jobs[0]); err != nil || e.surveyNow(sv.ID).Status != switchboard.SurveyPending {
			t.Fatalf("before its time: %v", err)
		}
		e.clock.Advance(time.Hour)
		if err := e.svc.ExpireSurveyJob(ctx, jobs[0]); err != nil || e.surveyNow(sv.ID).Status != switchboard.SurveyExpired {
			t.Fatalf("expired: %+v %v", e.surveyNow(sv.ID), err)
		}
		if got := texts(e.activities(job.ConversationID)); len(got) != 1 || got[0] != "The satisfaction survey expired without an answer." {
			t.Fatalf("activity: %q", got)
		}
		if _, out := e.text("33612345678", "5"); out.CSATAnswer {
			t.Fatal("an expired survey takes no answer")
		}
		if err := e.svc.ExpireSurveyJob(ctx, &switchboard.Job{Payload: json.RawMessage(`{}`)}); !switchboard.IsCode(err, switchboard.EINVALID) {
			t.Fatalf("a job without a survey: %v", err)
		}
	})
}

func TestCSATComment(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	each(t, start, func(s *switchboard.ChannelSettings) {
		s.CSAT = switchboard.CSATSettings{Enabled: true, AskComment: true}
	}, func(t *testing.T, e *env) {
		job, _ := e.text("33612345678", "Hello")
		sv := e.survey(job.ConversationID, nil)
		e.clock.Advance(time.Minute)
		if _, out := e.tap("33612345678", sv, 2); !out.CSATAnswer {
			t.Fatalf("rating: %+v", out)
		}
		sent := texts(e.automated(job.ConversationID))
		if len(sent) != 2 || sent[1] != automation.CSATCommentPrompt {
			t.Fatalf("comment prompt: %q", sent)
		}
		e.clock.Advance(time.Minute)
		comment, out := e.text("33612345678", "The first agent did not understand me.")
		if comment.ConversationID != job.ConversationID || !out.CSATAnswer || out.Route {
			t.Fatalf("comment: %+v %+v", comment, out)
		}
		got := e.surveyNow(sv.ID)
		if got.Comment != "The first agent did not understand me." || *got.Rating != 2 || got.AwaitComment {
			t.Fatalf("survey: %+v", got)
		}
		if n := len(e.automated(job.ConversationID)); n != 2 {
			t.Fatalf("the comment gets no further prompt: %d messages", n)
		}
	})
}

func TestCSATWindowClosed(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	each(t, start, csatOn, func(t *testing.T, e *env) {
		job, _ := e.text("33612345678", "Hello")
		e.clock.Advance(25 * time.Hour)
		sv := e.survey(job.ConversationID, nil)
		if sv.Status != switchboard.SurveySkipped || sv.MessageID != nil || len(e.automated(job.ConversationID)) != 0 {
			t.Fatalf("skipped: %+v", sv)
		}
		if got := texts(e.activities(job.ConversationID)); len(got) != 1 ||
			got[0] != "Satisfaction survey not sent: the 24-hour window is closed and no survey template is configured." {
			t.Fatalf("note: %q", got)
		}
		if _, err := e.s.UpdateChannel(t.Context(), e.ch.ID, func(c *switchboard.Channel) error {
			c.Settings.CSAT.TemplateName, c.Settings.CSAT.TemplateLanguage = "csat_survey", "en_US"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		job2, _ := e.text("14155550100", "Hi")
		e.clock.Advance(30 * time.Hour)
		sv = e.survey(job2.ConversationID, nil)
		sent := e.automated(job2.ConversationID)
		if sv.Status != switchboard.SurveyPending || len(sent) != 1 || sent[0].Type != switchboard.TypeTemplate {
			t.Fatalf("template survey: %+v %+v", sv, sent)
		}
		// The template's quick-reply button answers it.
		e.clock.Advance(time.Minute)
		tap := e.receive("14155550100", &switchboard.Message{Type: "button", Text: "Excellent",
			Payload: json.RawMessage(`{"type":"button","button":{"payload":"Excellent","text":"Excellent"}}`)})
		if out := e.handle(tap); !out.CSATAnswer || *e.surveyNow(sv.ID).Rating != 5 {
			t.Fatalf("template answer: %+v %+v", out, e.surveyNow(sv.ID))
		}
	})
}
