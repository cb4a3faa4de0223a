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
