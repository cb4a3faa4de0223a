package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/routing"
	"switchboard/store"
	"switchboard/store/storetest"
)

func textRule(channelID int64, name, contains string, target switchboard.RuleTarget) *switchboard.RoutingRule {
	return &switchboard.RoutingRule{ChannelID: channelID, Name: name, Enabled: true, Target: target,
		Conditions: []switchboard.RuleCondition{{Field: switchboard.CondText, Op: switchboard.OpContains, Values: []string{contains}}}}
}

func ruleIDs(rules []*switchboard.RoutingRule) string {
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, "%d@%d ", r.ID, r.Position)
	}
	return strings.TrimSpace(b.String())
}

func TestRoutingRulesCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		ana := mustAgent(t, s, "Ana", "ana@example.com", switchboard.RoleAgent)
		team := &switchboard.Team{Name: "Billing"}
		if err := s.CreateTeam(ctx, team); err != nil {
			t.Fatal(err)
		}
		a := textRule(ch.ID, "Invoices", "invoice", switchboard.RuleTarget{Kind: switchboard.TargetTeam, ID: team.ID})
		b := textRule(ch.ID, "Ana's", "ana", switchboard.RuleTarget{Kind: switchboard.TargetAgent, ID: ana.ID})
		c := textRule(ch.ID, "Bot", "bot", switchboard.RuleTarget{Kind: switchboard.TargetAIAgent, ID: 42})
		for _, r := range []*switchboard.RoutingRule{a, b, c} {
			if err := s.CreateRoutingRule(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		rules, err := s.ListRoutingRules(ctx, ch.ID)
		if err != nil || ruleIDs(rules) != fmt.Sprintf("%d@1 %d@2 %d@3", a.ID, b.ID, c.ID) || rules[0].Conditions[0].Values[0] != "invoice" {
			t.Fatalf("rules in order: %s %v", ruleIDs(rules), err)
		}

		bad := textRule(ch.ID, "", "x", switchboard.RuleTarget{Kind: "robot", ID: 1})
		bad.Conditions = append(bad.Conditions, switchboard.RuleCondition{Field: switchboard.CondTime, Op: switchboard.OpBetween, Values: []string{"9h"}})
		err = s.CreateRoutingRule(ctx, bad)
		if f := switchboard.ErrorFields(err); f["name"] == "" || f["target.kind"] == "" || f["conditions.1.values"] == "" {
			t.Fatalf("validation: %v", err)
		}
		err = s.CreateRoutingRule(ctx, textRule(ch.ID, "Ghost", "x", switchboard.RuleTarget{Kind: switchboard.TargetAgent, ID: 9999}))
		if switchboard.ErrorFields(err)["target.id"] == "" {
			t.Fatalf("unknown agent target: %v", err)
		}
		if err := s.CreateRoutingRule(ctx, textRule(9999, "Nowhere", "x", c.Target)); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("rule of a missing channel: %v", err)
		}

		got, err := s.UpdateRoutingRule(ctx, ch.ID, b.ID, func(r *switchboard.RoutingRule) error {
			r.Name, r.Enabled, r.Position = "Ana's customers", false, 99
			return nil
		})
		if err != nil || got.Name != "Ana's customers" || got.Enabled || got.Position != 2 {
			t.Fatalf("update: %+v %v", got, err)
		}
		if _, err := s.UpdateRoutingRule(ctx, ch.ID, b.ID, func(r *switchboard.RoutingRule) error { r.Conditions = nil; return nil }); switchboard.ErrorFields(err)["conditions"] == "" {
			t.Fatalf("update validates: %v", err)
		}
		if _, err := s.UpdateRoutingRule(ctx, ch.ID+1, b.ID, func(*switchboard.RoutingRule) error { return nil }); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("a rule is only reachable through its channel: %v", err)
		}

		rules, err = s.ReorderRoutingRules(ctx, ch.ID, []int64{c.ID, a.ID, b.ID})
		if err != nil || ruleIDs(rules) != fmt.Sprintf("%d@1 %d@2 %d@3", c.ID, a.ID, b.ID) {
			t.Fatalf("reorder: %s %v", ruleIDs(rules), err)
		}
		for _, ids := range [][]int64{{c.ID, a.ID}, {c.ID, a.ID, b.ID, a.ID}, {c.ID, a.ID, 9999}} {
			if _, err := s.ReorderRoutingRules(ctx, ch.ID, ids); switchboard.ErrorFields(err)["ids"] == "" {
				t.Fatalf("reorder %v: %v", ids, err)
			}
		}

		if err := s.DeleteRoutingRule(ctx, ch.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteRoutingRule(ctx, ch.ID, a.ID); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("delete twice: %v", err)
		}
		if rules, _ := s.ListRoutingRules(ctx, ch.ID); ruleIDs(rules) != fmt.Sprintf("%d@1 %d@3", c.ID, b.ID) {
			t.Fatalf("after delete: %s", ruleIDs(rules))
		}
		d := textRule(ch.ID, "Last", "x", c.Target)
		if err := s.CreateRoutingRule(ctx, d); err != nil || d.Position != 4 {
			t.Fatalf("a new rule goes last: %+v %v", d, err)
		}
	})
}

// TestReorderIsAtomic: concurrent reorders leave one of them in place, never a mix.
func TestReorderIsAtomic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		var ids []int64
		for i := 0; i < 6; i++ {
			r := textRule(ch.ID, fmt.Sprint("Rule ", i), "x", switchboard.RuleTarget{Kind: switchboard.TargetAIAgent, ID: 1})
			if err := s.CreateRoutingRule(ctx, r); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		orders := map[string]bool{}
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			order := append([]int64(nil), ids[g%6:]...)
			order = append(order, ids[:g%6]...)
			orders[fmt.Sprint(order)] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					if _, err := s.ReorderRoutingRules(ctx, ch.ID, order); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		rules, _ := s.ListRoutingRules(ctx, ch.ID)
		got := make([]int64, len(rules))
		for i, r := range rules {
			got[i] = r.ID
			if r.Position != i+1 {
				t.Fatalf("positions are not 1..n: %s", ruleIDs(rules))
			}
		}
		if !orders[fmt.Sprint(got)] {
			t.Fatalf("the final order %v is none of the requested ones", got)
		}
	})
}

// aiAgents is the AI agent lookup the router uses.
type aiAgents map[int64]*switchboard.AIAgent

func (a aiAgents) AIAgent(_ context.Context, id int64) (*switchboard.AIAgent, error) {
	if x, ok := a[id]; ok {
		return x, nil
	}
	return nil, switchboard.Errorf(switchboard.ENOTFOUND, "AI agent not found.")
}

// switchPresence is presence the test turns on and off.
type switchPresence struct {
	mu sync.Mutex
	on map[int64]bool
}

func (p *switchPresence) Online(id int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.on[id]
}

func (p *switchPresence) set(id int64, on bool) {
	p.mu.Lock()
	p.on[id] = on
	p.mu.Unlock()
}

func TestRoutingByRules(t *testing.T) {
	// A Wednesday at 15:30 in Paris, inside business hours.
	clock := switchboard.NewManualClock(time.Date(2026, 11, 18, 14, 30, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		d := newDesk(t, s, switchboard.AssignByLoad, 0, 0)
		ana := mustAgent(t, s, "Ana", "ana@example.com", switchboard.RoleAgent)
		bo := mustAgent(t, s, "Bo", "bo@example.com", switchboard.RoleAgent)
		cy := mustAgent(t, s, "Cy", "cy@example.com", switchboard.RoleAgent)
		dee := mustAgent(t, s, "Dee", "dee@example.com", switchboard.RoleAgent) // not a member
		for _, a := range []*switchboard.Agent{ana, bo, cy} {
			d.join(a, 5)
		}
		billing := &switchboard.Team{Name: "Billing", AgentIDs: []int64{bo.ID, cy.ID}}
		if err := s.CreateTeam(ctx, billing); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateChannel(ctx, d.ch.ID, func(c *switchboard.Channel) error {
			c.Settings.BusinessHours = switchboard.BusinessHours{Enabled: true, Timezone: "Europe/Paris", AwayMessage: "closed",
				Weekly: map[string][]switchboard.Interval{"wednesday": {{Start: "09:00", End: "18:00"}}}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		rules := []*switchboard.RoutingRule{
			{Name: "French VIPs", Enabled: true, Target: switchboard.RuleTarget{Kind: switchboard.TargetAgent, ID: ana.ID},
				Conditions: []switchboard.RuleCondition{{Field: switchboard.CondCountry, Op: switchboard.OpIn, Values: []string{"33"}},
					{Field: switchboard.CondTag, Op: switchboard.OpHas, Values: []string{"vip"}}}},
			textRule(d.ch.ID, "Invoices", "invoice", switchboard.RuleTarget{Kind: switchboard.TargetTeam, ID: billing.ID}),
			textRule(d.ch.ID, "Bot", "robot", switchboard.RuleTarget{Kind: switchboard.TargetAIAgent, ID: 7}),
			textRule(d.ch.ID, "Old bot", "retired", switchboard.RuleTarget{Kind: switchboard.TargetAIAgent, ID: 8}),
			textRule(d.ch.ID, "Dee", "dee", switchboard.RuleTarget{Kind: switchboard.TargetAgent, ID: dee.ID}),
			{Name: "Returning after hours", Enabled: true, Target: switchboard.RuleTarget{Kind: switchboard.TargetAgent, ID: cy.ID},
				Conditions: []switchboard.RuleCondition{{Field: switchboard.CondReturning, Op: switchboard.OpIs, Values: []string{"true"}},
					{Field: switchboard.CondBusinessHours, Op: switchboard.OpIs, Values: []string{"outside"}}}},
		}
		for _, r := range rules {
			r.ChannelID = d.ch.ID
			if err := s.CreateRoutingRule(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		presence := &switchPresence{on: map[int64]bool{ana.ID: true, bo.ID: true, cy.ID: true}}
		router := routing.New(routing.Deps{Store: s, Presence: presence, Clock: clock,
			AIAgents: aiAgents{7: {ID: 7, Name: "Helper", Enabled: true}, 8: {ID: 8, Name: "Old", Enabled: false}}})
		route := func(waID, text string) (int64, *routing.Outcome) {
			t.Helper()
			conv, msg := d.customerFrom(waID, text)
			out, err := router.Assign(ctx, conv, routing.Trigger{Kind: routing.TriggerNew, MessageID: msg})
			if err != nil {
				t.Fatal(err)
			}
			return conv, out
		}
		owner := func(out *routing.Outcome) string {
			if out.Assignee == nil {
				return fmt.Sprintf("waiting=%v", out.Waiting)
			}
			return fmt.Sprintf("%s %d by %s", out.Assignee.Kind, out.Assignee.ID, out.Reason)
		}
		want := func(out *routing.Outcome, kind string, id int64, reason string) {
			t.Helper()
			if got := owner(out); got != fmt.Sprintf("%s %d by %s", kind, id, reason) {
				t.Fatalf("got %s, want %s %d by %s", got, kind, id, reason)
			}
		}

		resolveOld := func(conv int64) {
			t.Helper()
			if err := s.ResolveForTest(ctx, conv, clock.Now().Add(-48*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}

		// A team rule picks the least loaded team member and records the team.
		first, out := route("4470000001", "my INVOICE is wrong")
		want(out, switchboard.AssigneeHuman, bo.ID, routing.ReasonRule)
		if c, _ := s.Conversation(ctx, first); c.TeamID == nil || *c.TeamID != billing.ID {
			t.Fatalf("team not recorded: %+v", c)
		}
		_, out = route("4470000002", "another invoice")
		want(out, switchboard.AssigneeHuman, cy.ID, routing.ReasonRule)
		// An enabled AI agent named by a rule takes it; a disabled one is passed over (to people).
		_, out = route("4470000003", "are you a robot?")
		want(out, switchboard.AssigneeAI, 7, routing.ReasonRule)
		_, out = route("4470000004", "the retired one")
		want(out, switchboard.AssigneeHuman, ana.ID, routing.ReasonLoad)
		// A rule naming someone outside the channel falls back to the channel's people.
		_, out = route("4470000005", "for dee")
		if out.Assignee == nil || out.Assignee.ID == dee.ID || out.Reason != routing.ReasonLoad {
			t.Fatalf("non-member target: %s", owner(out))
		}

		// A French VIP goes to Ana whatever the load; a French customer without the tag does not.
		d.customerFrom("33611111111", "hi")
		if _, err := s.SQL().ExecContext(ctx, `UPDATE contacts SET tags = '["VIP"]' WHERE wa_id = '33611111111'`); err != nil {
			t.Fatal(err)
		}
		vip, out := route("33611111111", "bonjour")
		want(out, switchboard.AssigneeHuman, ana.ID, routing.ReasonRule)
		msgs, _, _ := s.ListMessages(ctx, vip, "", 0)
		if last := msgs[len(msgs)-1]; last.Type != switchboard.TypeActivity || last.Sender != switchboard.SenderSystem || last.Text != "Assigned to Ana by the rule “French VIPs”." {
			t.Fatalf("activity: %+v", last)
		}
		if _, out = route("33622222222", "bonjour"); out.Reason != routing.ReasonLoad {
			t.Fatalf("French customer without the tag: %s", owner(out))
		}

		// The target's queue: Ana is offline, so the VIP waits for her although others are free.
		presence.set(ana.ID, false)
		resolveOld(vip)
		vip, out = route("33611111111", "hello?")
		if !out.Waiting || out.Rule == nil || out.Rule.Name != "French VIPs" {
			t.Fatalf("VIP should wait for Ana: %s", owner(out))
		}
		// The whole team is away: an invoice waits for the team.
		presence.set(bo.ID, false)
		presence.set(cy.ID, false)
		invoice, out := route("4470000006", "invoice")
		if !out.Waiting {
			t.Fatalf("invoice should wait for the team: %s", owner(out))
		}
		// Ana comes back: the drain gives her the VIP, and leaves the invoice for the team.
		presence.set(ana.ID, true)
		if n, err := router.Drain(ctx, d.ch.ID); err != nil || n != 1 {
			t.Fatalf("drain with Ana back: %d %v", n, err)
		}
		if c, _ := s.Conversation(ctx, vip); c.Assignee == nil || c.Assignee.ID != ana.ID || c.WaitingSince != nil {
			t.Fatalf("VIP after drain: %+v", c)
		}
		if c, _ := s.Conversation(ctx, invoice); c.Assignee != nil || c.WaitingSince == nil {
			t.Fatalf("the invoice waits for its team: %+v", c)
		}
		presence.set(bo.ID, true)
		if n, err := router.DrainAgent(ctx, bo.ID); err != nil || n != 1 {
			t.Fatalf("drain with Bo back: %d %v", n, err)
		}
		if c, _ := s.Conversation(ctx, invoice); c.Assignee == nil || c.Assignee.ID != bo.ID {
			t.Fatalf("invoice after drain: %+v", c)
		}

		// After hours, a returning customer goes to Cy; a new one goes by load.
		presence.set(cy.ID, true)
		clock.Set(time.Date(2026, 11, 18, 20, 0, 0, 0, time.UTC))
		resolveOld(first)
		_, out = route("4470000001", "hello again")
		want(out, switchboard.AssigneeHuman, cy.ID, routing.ReasonRule)
		if _, out = route("4470000099", "hello"); out.Reason != routing.ReasonLoad {
			t.Fatalf("new customer after hours: %s", owner(out))
		}
	})
}
