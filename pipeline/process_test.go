package pipeline_test

import (
	"context"
	"testing"

	"switchboard"
	"switchboard/agents"
	"switchboard/automation"
	"switchboard/pipeline"
	"switchboard/routing"
)

// automationsSaying is an Automations whose NeedsWork answers a fixed value.
type automationsSaying bool

func (a automationsSaying) HandleInbound(context.Context, switchboard.InboundJob) (automation.Outcome, error) {
	return automation.Outcome{Route: true}, nil
}
func (a automationsSaying) NeedsWork(switchboard.InboundWork) bool { return bool(a) }

type noRouter struct{}

func (noRouter) Assign(context.Context, int64, routing.Trigger) (*routing.Outcome, error) {
	return &routing.Outcome{}, nil
}

type noAI struct{}

func (noAI) Reply(context.Context, int64, int64) (agents.Result, error) { return agents.Result{}, nil }

// TestProcessorNeedsWork: the inbound job is skipped only when no automation applies and the
// conversation is open, not new or reopened, and owned by a person.
func TestProcessorNeedsWork(t *testing.T) {
	human := &switchboard.Assignee{Kind: switchboard.AssigneeHuman, ID: 7}
	ai := &switchboard.Assignee{Kind: switchboard.AssigneeAI, ID: 2}
	conv := func(status string, a *switchboard.Assignee) *switchboard.Conversation {
		return &switchboard.Conversation{Status: status, Assignee: a}
	}
	text := &switchboard.Message{Direction: switchboard.Inbound, Type: switchboard.TypeText, Text: "hi"}
	activity := &switchboard.Message{Direction: switchboard.Inbound, Type: switchboard.TypeActivity, Text: "number changed"}
	full := pipeline.NewProcessor(pipeline.ProcessorOptions{Automations: automationsSaying(false), Router: noRouter{}, AI: noAI{}})
	withoutAI := pipeline.NewProcessor(pipeline.ProcessorOptions{Automations: automationsSaying(false), Router: noRouter{}})
	automating := pipeline.NewProcessor(pipeline.ProcessorOptions{Automations: automationsSaying(true), Router: noRouter{}, AI: noAI{}})
	for _, tc := range []struct {
		name string
		p    *pipeline.Processor
		conv *switchboard.Conversation
		msg  *switchboard.Message
		job  switchboard.InboundJob
		want bool
	}{
		{"owned by a person", full, conv(switchboard.StatusOpen, human), text, switchboard.InboundJob{}, false},
		{"no owner yet: routing", full, conv(switchboard.StatusOpen, nil), text, switchboard.InboundJob{}, true},
		{"new conversation", full, conv(switchboard.StatusOpen, human), text, switchboard.InboundJob{NewConversation: true}, true},
		{"reopened: the previous owner is checked", full, conv(switchboard.StatusOpen, human), text, switchboard.InboundJob{Reopened: true}, true},
		{"owned by the AI agent: it answers", full, conv(switchboard.StatusOpen, ai), text, switchboard.InboundJob{}, true},
		{"owned by an AI agent, no AI runtime", withoutAI, conv(switchboard.StatusOpen, ai), text, switchboard.InboundJob{}, false},
		{"an automation applies", automating, conv(switchboard.StatusOpen, human), text, switchboard.InboundJob{}, true},
		{"an activity line", automating, conv(switchboard.StatusOpen, nil), activity, switchboard.InboundJob{NewConversation: true}, false},
		{"resolved", full, conv(switchboard.StatusResolved, human), text, switchboard.InboundJob{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := switchboard.InboundWork{Channel: &switchboard.Channel{}, Conversation: tc.conv, Message: tc.msg, Job: tc.job}
			if got := tc.p.NeedsWork(w); got != tc.want {
				t.Fatalf("NeedsWork = %v, want %v", got, tc.want)
			}
		})
	}
}

// processStore is a ProcessStore over fixed values.
type processStore struct {
	conv *switchboard.Conversation
	msg  *switchboard.Message
}

func (s processStore) Channel(context.Context, int64) (*switchboard.Channel, error) {
	return &switchboard.Channel{ID: 1}, nil
}
func (s processStore) Conversation(context.Context, int64) (*switchboard.Conversation, error) {
	return s.conv, nil
}
func (s processStore) Message(context.Context, int64) (*switchboard.Message, error) {
	return s.msg, nil
}

// countingAutomations counts HandleInbound calls; NeedsWork says nothing applies.
type countingAutomations struct{ handled int }

func (a *countingAutomations) HandleInbound(context.Context, switchboard.InboundJob) (automation.Outcome, error) {
	a.handled++
	return automation.Outcome{Route: true}, nil
}
func (a *countingAutomations) NeedsWork(switchboard.InboundWork) bool { return false }

// countingRouter counts Assign calls.
type countingRouter struct{ assigned int }

func (r *countingRouter) Assign(context.Context, int64, routing.Trigger) (*routing.Outcome, error) {
	r.assigned++
	return &routing.Outcome{}, nil
}

// TestProcessorJudgesAgainAtRunTime: a message stored while its conversation had no owner gets a job;
// when routing has given the conversation to a person by the time that job runs, it does nothing.
// Without an owner it still routes.
func TestProcessorJudgesAgainAtRunTime(t *testing.T) {
	msg := &switchboard.Message{ID: 9, Direction: switchboard.Inbound, Type: switchboard.TypeText, Text: "hello?"}
	payload := []byte(`{"conversation_id":5,"message_id":9}`)
	for _, tc := range []struct {
		name     string
		assignee *switchboard.Assignee
		want     int
	}{
		{"a person owns it by now", &switchboard.Assignee{Kind: switchboard.AssigneeHuman, ID: 7}, 0},
		{"still nobody's", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auto, router := &countingAutomations{}, &countingRouter{}
			p := pipeline.NewProcessor(pipeline.ProcessorOptions{Store: processStore{
				conv: &switchboard.Conversation{ID: 5, ChannelID: 1, Status: switchboard.StatusOpen, Assignee: tc.assignee}, msg: msg},
				Automations: auto, Router: router})
			if err := p.Handle(t.Context(), &switchboard.Job{Kind: switchboard.InboundJobKind, Payload: payload}); err != nil {
				t.Fatal(err)
			}
			if auto.handled != tc.want || router.assigned != tc.want {
				t.Fatalf("automations ran %d times, routing %d times; want %d", auto.handled, router.assigned, tc.want)
			}
		})
	}
}
